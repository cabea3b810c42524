// Private: registering a host ext4 file as an image without copying it, and deleting images.
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { BangerError, isBangerError, isErrno } from "../errors/index.js";
import { AGENT_GUEST_PATH } from "../guest/index.js";
import { run } from "../host/index.js";
import { imageDir, type Paths } from "../paths/index.js";
import { writeManifest, type ImageInfo } from "./manifest.js";
import { makeStagingDir } from "./staging.js";
import { checkImageName, getImage } from "./store.js";

export interface RegisterOptions {
  name: string;
  /** Absolute path of a raw ext4 file on the host; it is used in place, never copied. */
  rootfs: string;
  kernel?: string;
}

export async function registerImage(paths: Paths, opts: RegisterOptions): Promise<ImageInfo> {
  checkImageName(opts.name);
  if (await imageExists(paths, opts.name)) {
    throw new BangerError("IMAGE_EXISTS", `cannot register image "${opts.name}": it exists`, {
      hint: `choose another --name, or remove it with \`banger image delete ${opts.name}\``,
    });
  }
  const rootfs = path.resolve(opts.rootfs);
  await checkRootfs(rootfs);
  const agent = await hasFile(rootfs, AGENT_GUEST_PATH);

  const staging = await makeStagingDir(paths.stagingDir, `register-${opts.name}`);
  try {
    await writeManifest(staging, {
      formatVersion: 1,
      name: opts.name,
      source: `registered:${rootfs}`,
      rootfs,
      agent,
      ...(opts.kernel === undefined ? {} : { kernel: opts.kernel }),
      createdAt: new Date().toISOString(),
    });
    await mkdir(paths.imagesDir, { recursive: true });
    await rename(staging, imageDir(paths, opts.name));
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  return getImage(paths, opts.name);
}

async function imageExists(paths: Paths, name: string): Promise<boolean> {
  try {
    await stat(imageDir(paths, name));
    return true;
  } catch (err) {
    if (isErrno(err, "ENOENT")) return false;
    throw err;
  }
}

async function checkRootfs(rootfs: string): Promise<void> {
  let info;
  try {
    info = await stat(rootfs);
  } catch (err) {
    throw new BangerError("INVALID_ARGUMENT", `cannot register "${rootfs}": it does not exist`, {
      cause: err,
    });
  }
  if (!info.isFile()) {
    throw new BangerError("INVALID_ARGUMENT", `cannot register "${rootfs}": not a regular file`);
  }
  try {
    await run("dumpe2fs", ["-h", rootfs], { timeoutMs: 10_000 });
  } catch (err) {
    throw new BangerError(
      "INVALID_ARGUMENT",
      `cannot register "${rootfs}": it is not an ext4 filesystem image`,
      { cause: err, hint: "make one with mkfs.ext4 -d <dir> <file> <size>" },
    );
  }
}

/** True when the ext4 image holds `file`; read with debugfs, nothing is mounted. */
async function hasFile(rootfs: string, file: string): Promise<boolean> {
  const { stdout, stderr } = await run("debugfs", ["-R", `stat ${file}`, rootfs], {
    timeoutMs: 10_000,
  });
  return /Inode: \d+/.test(stdout) && !/File not found/.test(stderr);
}

/**
 * Deletes an image. Refused with IMAGE_IN_USE naming the VMs in `usedBy`. A registered image's
 * rootfs stays where it is on the host; only banger's record of it goes.
 */
export async function deleteImage(paths: Paths, name: string, usedBy: string[]): Promise<void> {
  try {
    await getImage(paths, name);
  } catch (err) {
    // A corrupt image may still be deleted; only a missing one is an error.
    if (!isBangerError(err, "IMAGE_NOT_FOUND") || !(await imageExists(paths, name))) throw err;
  }
  if (usedBy.length > 0) {
    throw new BangerError(
      "IMAGE_IN_USE",
      `cannot delete image "${name}": used by VM${usedBy.length > 1 ? "s" : ""} ${usedBy.map((n) => `"${n}"`).join(", ")}`,
      { hint: `delete them first: banger vm delete ${usedBy.join(" ")}` },
    );
  }
  await rm(imageDir(paths, name), { recursive: true, force: true });
}
