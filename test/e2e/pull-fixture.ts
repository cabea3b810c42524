// An OCI image made cheaply from the suite's default image: its ext4 dumped with debugfs
// (setuid, setgid and sticky bits put back: rdump loses them), packed with GNU tar and
// pushed to a local registry. Shared by 08-pull and bench/pull.
import { execFileSync } from "node:child_process";
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pushTarLayers } from "../../src/oci/testing-registry.js";

const SPECIAL_BITS = 0o7000;
const LS_LINE = /^\s*\d+\s+([0-7]+)\s+\(\d+\)\s+\d+\s+\d+\s+\d+\s+\d{1,2}-\w{3}-\d{4}\s+\S+\s(.+)$/;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 256 * 2 ** 20, stdio: "pipe" });
}

async function dirsUnder(root: string, rel = ""): Promise<string[]> {
  const out = [rel];
  for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await dirsUnder(root, path.join(rel, e.name))));
  }
  return out;
}

/** Dumps the ext4 file's tree into `dest` (created), owners, modes and special bits kept. */
export async function dumpRootfs(ext4: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  sh("debugfs", ["-R", `rdump / ${dest}`, ext4]);
  const dirs = await dirsUnder(dest);
  const cmdFile = `${dest}.debugfs`;
  await writeFile(cmdFile, dirs.map((d) => `ls -l "/${d}"\n`).join(""));
  const listing = sh("debugfs", ["-f", cmdFile, ext4]);
  let dir = "";
  for (const line of listing.split("\n")) {
    const header = /^debugfs: ls -l "\/(.*)"$/.exec(line);
    if (header) {
      dir = header[1] ?? "";
      continue;
    }
    const m = LS_LINE.exec(line);
    if (!m) continue;
    const mode = parseInt(m[1] ?? "0", 8);
    const name = m[2] ?? ".";
    const type = mode & 0o170000;
    const fileOrDir = type === 0o100000 || type === 0o040000;
    if ((mode & SPECIAL_BITS) !== 0 && fileOrDir && name !== "." && name !== "..") {
      await chmod(path.join(dest, dir, name), mode & 0o7777);
    }
  }
}

/**
 * Pushes `layers` (each a host dir placed at a path of the image, in order) as gzip layers of
 * an OCI image `<host>/<repo>:<tag>`. GNU tar makes each layer (owners numeric, modes and
 * special bits kept); umoci 0.4.7's `insert` cuts the end off a layer placed below "/".
 */
export async function pushLayers(
  host: string,
  repo: string,
  tag: string,
  layers: { dir: string; at: string }[],
): Promise<void> {
  const plains: Buffer[] = [];
  for (const { dir, at } of layers) {
    const prefix = at.replace(/^\/+|\/+$/g, "");
    const names = (await readdir(dir)).sort();
    const transform = prefix === "" ? [] : [`--transform=s,^,${prefix}/,S`];
    const args = ["-C", dir, "--numeric-owner", ...transform, "-cf", "-", "--", ...names];
    plains.push(execFileSync("tar", args, { maxBuffer: 2 ** 31, stdio: "pipe" }));
  }
  await pushTarLayers(host, repo, tag, plains, 1);
}

/** Mode, owner and group of a path inside an ext4 file, as debugfs reports them. */
export function statIn(ext4: string, file: string): string {
  const out = sh("debugfs", ["-R", `stat "${file}"`, ext4]);
  const mode = /Mode:\s+(\d+)/.exec(out)?.[1];
  const owner = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(out);
  return `${mode ?? "?"} ${owner?.[1] ?? "?"}:${owner?.[2] ?? "?"}`;
}
