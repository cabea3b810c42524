// Private: one layer tar applied onto a staging root, with whiteouts and opaque directories,
// keeping owners, modes (setuid too), hard links, symlinks and device nodes.
import { constants } from "node:fs";
import { chmod, link, lchown, lutimes, mkdir, open, readdir, rm, symlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import type { Header, Extract } from "tar-stream";
import { run } from "../host/index.js";
import { entryParts, lstatOrNull, resolveDir, unsafeEntry } from "./root-path.js";

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";
const MODE_BITS = 0o7777;

type EntryStream = Extract extends AsyncIterable<infer T> ? T : never;

export interface ApplyLayerOptions {
  /** The staging root, a real path (no symlinks in it). */
  rootDir: string;
  /** The uncompressed layer tar. */
  tar: Readable;
  signal?: AbortSignal;
}

/** What one layer left behind; the set guards its opaque directories. */
interface LayerState {
  root: string;
  /** Real paths this layer created, with their ancestors. */
  touched: Set<string>;
}

/** Applies every entry in order; returns how many entries there were. */
export async function applyLayer(opts: ApplyLayerOptions): Promise<number> {
  const state: LayerState = { root: opts.rootDir, touched: new Set() };
  const extract = tar.extract();
  const feeding = pipeline(opts.tar, extract, signalOption(opts.signal));
  // The pipeline can fail while an entry is being written (a full disk closes the extractor
  // early); it is awaited below, but must never count as an unhandled rejection meanwhile,
  // which would end the daemon.
  feeding.catch(() => {});
  let count = 0;
  try {
    for await (const entry of extract) {
      count++;
      await applyEntry(state, entry);
      entry.resume();
    }
    await feeding;
  } catch (err) {
    opts.tar.destroy();
    extract.destroy();
    await feeding.catch(() => {});
    throw err;
  }
  return count;
}

function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}

async function applyEntry(state: LayerState, entry: EntryStream): Promise<void> {
  const h = entry.header;
  const parts = entryParts(h.name);
  const base = parts.at(-1);
  if (base === undefined) return applyRootDir(state, h);
  if (base.startsWith(WHITEOUT)) return applyWhiteout(state, parts, base);

  const dir = await resolveDir(state.root, parts.slice(0, -1), true);
  const full = path.join(dir, base);
  await clearFor(full, h.type === "directory");
  markTouched(state, full);

  switch (h.type) {
    case "file":
    case "contiguous-file":
      return writeFile(full, h, entry);
    case "directory":
      return writeDir(full, h);
    case "symlink":
      return writeSymlink(full, h);
    case "link":
      return writeHardLink(state, full, h);
    case "character-device":
    case "block-device":
    case "fifo":
      return writeNode(full, h);
    default:
      throw unsafeEntry(h.name, `entry type "${String(h.type)}" is not supported`);
  }
}

async function applyRootDir(state: LayerState, h: Header): Promise<void> {
  if (h.type !== "directory") throw unsafeEntry(h.name, "only a directory can be the root");
  await setOwnerAndMode(state.root, h);
}

/** Removes what stands where a new entry goes; an existing directory stays for a directory. */
async function clearFor(full: string, isDir: boolean): Promise<void> {
  const st = await lstatOrNull(full);
  if (st === null || (isDir && st.isDirectory())) return;
  await rm(full, { recursive: true, force: true });
}

function markTouched(state: LayerState, full: string): void {
  for (let p = full; p.length > state.root.length; p = path.dirname(p)) state.touched.add(p);
}

async function applyWhiteout(state: LayerState, parts: string[], base: string): Promise<void> {
  const dir = await resolveDirOrNull(state.root, parts.slice(0, -1));
  if (dir === null) return;
  if (base === OPAQUE) {
    for (const child of await readdir(dir)) {
      const full = path.join(dir, child);
      if (!state.touched.has(full)) await rm(full, { recursive: true, force: true });
    }
    return;
  }
  // Other ".wh..wh." names are AUFS bookkeeping, not whiteouts.
  if (base.startsWith(`${WHITEOUT}${WHITEOUT}`)) return;
  const victim = base.slice(WHITEOUT.length);
  if (victim === "" || victim === "." || victim === "..")
    throw unsafeEntry(parts.join("/"), "bad whiteout");
  await rm(path.join(dir, victim), { recursive: true, force: true });
}

async function resolveDirOrNull(root: string, parts: string[]): Promise<string | null> {
  try {
    return await resolveDir(root, parts, false);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

const CREATE_FILE =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const OPEN_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

async function writeFile(full: string, h: Header, entry: EntryStream): Promise<void> {
  const fh = await open(full, CREATE_FILE, 0o600);
  try {
    for await (const chunk of entry) await fh.write(chunk as Buffer);
    await setHandleMeta(fh, h);
  } finally {
    await fh.close();
  }
}

async function writeDir(full: string, h: Header): Promise<void> {
  if ((await lstatOrNull(full)) === null) {
    await mkdir(full, { mode: 0o700 });
  }
  await setOwnerAndMode(full, h);
}

async function setOwnerAndMode(dirPath: string, h: Header): Promise<void> {
  const fh = await open(dirPath, OPEN_DIR);
  try {
    await setHandleMeta(fh, h);
  } finally {
    await fh.close();
  }
}

/** Owner before mode: chown clears setuid and setgid bits. */
async function setHandleMeta(fh: FileHandle, h: Header): Promise<void> {
  await fh.chown(h.uid, h.gid);
  await fh.chmod(h.mode & MODE_BITS);
  await fh.utimes(h.mtime, h.mtime);
}

async function writeSymlink(full: string, h: Header): Promise<void> {
  const target = h.linkname;
  if (target === "" || target.includes("\0")) throw unsafeEntry(h.name, "bad symlink target");
  // The target is stored, never followed here: the guest resolves it inside its own root.
  await symlink(target, full);
  await lchown(full, h.uid, h.gid);
  await lutimes(full, h.mtime, h.mtime);
}

async function writeHardLink(state: LayerState, full: string, h: Header): Promise<void> {
  const parts = entryParts(h.linkname);
  const base = parts.at(-1);
  if (base === undefined) throw unsafeEntry(h.name, "hard link to the root");
  const dir = await resolveDirOrNull(state.root, parts.slice(0, -1));
  const target = dir === null ? null : path.join(dir, base);
  const st = target === null ? null : await lstatOrNull(target);
  if (target === null || st === null || st.isDirectory()) {
    throw unsafeEntry(h.name, `hard link target "${h.linkname}" is not a file in the image`);
  }
  // link(2) does not follow a symlink target; the new name shares the target's inode.
  await link(target, full);
}

async function writeNode(full: string, h: Header): Promise<void> {
  const mode = (h.mode & MODE_BITS).toString(8);
  const kind = h.type === "fifo" ? ["p"] : [h.type === "block-device" ? "b" : "c"];
  const numbers = h.type === "fifo" ? [] : [String(h.devmajor), String(h.devminor)];
  await run("mknod", ["-m", mode, "--", full, ...kind, ...numbers]);
  await lchown(full, h.uid, h.gid);
  // mknod just made this node and only we write here, so chmod cannot meet a symlink.
  await chmod(full, h.mode & MODE_BITS);
}
