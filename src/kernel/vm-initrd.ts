// Private: the per-VM initramfs, the base archive with this VM's boot files appended.
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { BangerError, isErrno } from "../errors/index.js";
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, writeCpio, type CpioEntry } from "./cpio-writer.js";
import { BOOT_FILES_DIR } from "./init-script.js";
import type { BootFile } from "./types.js";

const DEFAULT_DIR_MODE = 0o755;
const MAX_PATH_BYTES = 4095;
const MAX_COMPONENT_BYTES = 255;

/**
 * The cpio entries placing `files` under BOOT_FILES_DIR, each missing parent directory first
 * (mode 0755 unless given as a BootFile). Refuses paths that are not absolute, hold "." or ".."
 * components, control characters or over-long names, and paths given twice.
 */
export function bootFileEntries(files: readonly BootFile[]): CpioEntry[] {
  const given = new Map<string, BootFile>();
  for (const f of files) {
    checkBootPath(f.path);
    if (given.has(f.path)) throw badFile(f.path, "it is given twice");
    given.set(f.path, f);
  }

  const entries: CpioEntry[] = [];
  const emitted = new Set<string>();
  const ensureDir = (dir: string): void => {
    const own = given.get(dir.slice(BOOT_FILES_DIR.length));
    if (own !== undefined && kindOf(own) !== "dir") throw badFile(own.path, "it is also a parent");
    if (emitted.has(dir)) return;
    const parent = dir.slice(0, dir.lastIndexOf("/"));
    if (parent !== "") ensureDir(parent);
    entries.push({ kind: "dir", name: dir, mode: own?.mode ?? DEFAULT_DIR_MODE });
    emitted.add(dir);
  };

  for (const f of given.values()) {
    const name = BOOT_FILES_DIR + f.path;
    ensureDir(name.slice(0, name.lastIndexOf("/")));
    if (kindOf(f) === "dir") ensureDir(name);
    else entries.push(toEntry(f, name));
  }
  return entries;
}

/**
 * Writes `outPath`: the bytes of `baseInitrdPath`, zero padding to a 4-byte boundary (the
 * kernel looks for the next archive's magic there), then a newc archive of `files`. Replaces
 * `outPath` atomically. Fails with INITRD_BUILD_FAILED when the base cannot be read and with
 * INVALID_ARGUMENT for a bad path.
 */
export async function buildVmInitrd(opts: {
  baseInitrdPath: string;
  outPath: string;
  files: BootFile[];
}): Promise<void> {
  const archive = writeCpio(bootFileEntries(opts.files), Math.floor(Date.now() / 1000));
  const base = await readBase(opts.baseInitrdPath);
  const padding = Buffer.alloc((4 - (base.length % 4)) % 4);

  const tmp = `${opts.outPath}.tmp-${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(tmp, Buffer.concat([base, padding, archive]), { mode: 0o600 });
    await rename(tmp, opts.outPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new BangerError(
      "INITRD_BUILD_FAILED",
      `cannot write "${opts.outPath}": ${errText(err)}`,
      {
        cause: err,
      },
    );
  }
}

async function readBase(basePath: string): Promise<Buffer> {
  try {
    return await readFile(basePath);
  } catch (err) {
    const why = isErrno(err, "ENOENT") ? "it does not exist" : errText(err);
    throw new BangerError("INITRD_BUILD_FAILED", `cannot read initramfs "${basePath}": ${why}`, {
      hint: "run `banger kernel list` and re-pull the kernel with `banger kernel pull`",
      cause: err,
    });
  }
}

function kindOf(f: BootFile): "dir" | "file" | "symlink" {
  const type = f.mode & S_IFMT;
  if (type === S_IFDIR) return "dir";
  if (type === S_IFLNK) return "symlink";
  if (type === 0 || type === S_IFREG) return "file";
  throw badFile(f.path, `mode ${f.mode.toString(8)} is not a file, directory or symlink`);
}

function toEntry(f: BootFile, name: string): CpioEntry {
  const data = typeof f.content === "string" ? Buffer.from(f.content, "utf8") : f.content;
  if (kindOf(f) === "symlink") return { kind: "symlink", name, target: data.toString("utf8") };
  return { kind: "file", name, mode: f.mode, data };
}

function checkBootPath(p: string): void {
  if (!p.startsWith("/") || p === "/") throw badFile(p, "it must be an absolute file path");
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(p)) throw badFile(p, "it contains control characters");
  if (Buffer.byteLength(p) > MAX_PATH_BYTES) throw badFile(p, "it is too long");
  for (const part of p.slice(1).split("/")) {
    if (part === "" || part === "." || part === "..") {
      throw badFile(p, 'it must not contain empty, "." or ".." components');
    }
    if (Buffer.byteLength(part) > MAX_COMPONENT_BYTES) throw badFile(p, "a component is too long");
  }
}

function badFile(p: string, why: string): BangerError {
  return new BangerError("INVALID_ARGUMENT", `cannot add boot file ${JSON.stringify(p)}: ${why}`);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
