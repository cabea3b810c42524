// Private: the last two steps every built image shares: the ext4 file made from a staged tree,
// and publishing the staged image dir into the store with one rename.
import { chmod, mkdir, rename } from "node:fs/promises";
import { isErrno } from "../errors/index.js";
import { run } from "../host/index.js";
import { imageDir, type Paths } from "../paths/index.js";
import { readImageDir, writeManifest, type ImageInfo, type ImageManifest } from "./manifest.js";
import { measureTreeBytes, rootfsSizeBytes } from "./tree-size.js";

const MKFS_TIMEOUT_MS = 10 * 60_000;

/**
 * Writes `rootfsPath`, an ext4 file filled from `rootDir`, sized `sizeBytes` or else 1.5x the
 * tree (at least 1 GiB). mkfs -d copies owners, modes (setuid included), xattrs and device
 * nodes. Returns the size in bytes.
 */
export async function makeRootfs(
  rootDir: string,
  rootfsPath: string,
  opts: { sizeBytes?: number | undefined; signal?: AbortSignal | undefined },
): Promise<number> {
  const sizeBytes = opts.sizeBytes ?? rootfsSizeBytes(await measureTreeBytes(rootDir));
  const sizeKib = Math.ceil(sizeBytes / 1024);
  const args = ["-q", "-F", "-L", "banger-root", "-d", rootDir, rootfsPath, `${sizeKib}k`];
  await run("mkfs.ext4", args, {
    timeoutMs: MKFS_TIMEOUT_MS,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  // Published images are shared by every VM's overlay and must never change.
  await chmod(rootfsPath, 0o444);
  return sizeKib * 1024;
}

/**
 * Writes the manifest into `outDir` and renames it to the image's place in the store. When the
 * place is taken, `onTaken` decides: return the image already there, or throw.
 */
export async function publishImage(
  paths: Paths,
  outDir: string,
  manifest: ImageManifest,
  onTaken: (err: unknown) => Promise<ImageInfo>,
): Promise<ImageInfo> {
  await writeManifest(outDir, manifest);
  const finalDir = imageDir(paths, manifest.name);
  await mkdir(paths.imagesDir, { recursive: true });
  try {
    await rename(outDir, finalDir);
  } catch (err) {
    if (!isErrno(err, "ENOTEMPTY") && !isErrno(err, "EEXIST")) throw err;
    return onTaken(err);
  }
  return readImageDir(finalDir, manifest.name);
}
