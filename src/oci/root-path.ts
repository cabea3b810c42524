// Private: paths inside a staging root, resolved as if chrooted there, so that no archive entry
// and no symlink planted by an earlier entry can lead a write outside the root.
import type { Stats } from "node:fs";
import { lstat, mkdir, readlink } from "node:fs/promises";
import path from "node:path";
import { BangerError, isErrno } from "../errors/index.js";

const MAX_SYMLINK_HOPS = 40;
const MAX_COMPONENT_BYTES = 255;
const MAX_PATH_BYTES = 4000;

/** Thrown for an entry that must not be applied; the caller names the layer. */
export function unsafeEntry(name: string, why: string): BangerError {
  return new BangerError("IMAGE_LAYER_UNSAFE", `refused layer entry "${name}": ${why}`, {
    hint: "the image is malformed or hostile; pull a different image or tag",
  });
}

/**
 * The components of an archive entry name. A leading "/" or "./" is dropped (Docker does the
 * same); ".." anywhere, NUL bytes and names the filesystem cannot hold are refused.
 */
export function entryParts(name: string): string[] {
  if (name.includes("\0")) throw unsafeEntry(name, "it contains a NUL byte");
  if (Buffer.byteLength(name) > MAX_PATH_BYTES) {
    throw unsafeEntry(name.slice(0, 80), `its path is longer than ${MAX_PATH_BYTES} bytes`);
  }
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  for (const p of parts) {
    if (p === "..") throw unsafeEntry(name, 'it contains ".."');
    if (Buffer.byteLength(p) > MAX_COMPONENT_BYTES) {
      throw unsafeEntry(name, `a component is longer than ${MAX_COMPONENT_BYTES} bytes`);
    }
  }
  return parts;
}

/**
 * The real path of `parts` inside `root` (itself a real path), following symlinks the way a
 * process chrooted into `root` would: absolute targets restart at `root` and ".." stops there.
 * Every component on the way must be a directory; missing ones are created (0755) when
 * `create` is set, else the call fails with ENOENT. Only this process writes the staging tree,
 * so what lstat saw stays true until the caller writes.
 */
export async function resolveDir(
  root: string,
  parts: readonly string[],
  create: boolean,
): Promise<string> {
  const resolved: string[] = [];
  const queue = [...parts];
  let hops = 0;
  while (queue.length > 0) {
    const part = queue.shift() as string;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const full = path.join(root, ...resolved, part);
    const st = await lstatOrNull(full);
    if (st === null) {
      if (!create) throw Object.assign(new Error(`"${full}" does not exist`), { code: "ENOENT" });
      await mkdir(full, { mode: 0o755 });
    } else if (st.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) throw unsafeEntry(parts.join("/"), "too many symlinks");
      const target = await readlink(full);
      if (target.startsWith("/")) resolved.length = 0;
      queue.unshift(...target.split("/"));
      continue;
    } else if (!st.isDirectory()) {
      throw unsafeEntry(parts.join("/"), `"${path.join(...resolved, part)}" is not a directory`);
    }
    resolved.push(part);
  }
  return path.join(root, ...resolved);
}

export async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return null;
    throw err;
  }
}
