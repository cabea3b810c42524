// Images (a raw ext4 root filesystem plus a manifest under `<imagesDir>/<name>/`): the default
// image build, the read-only image store, and the per-VM disks made from an image.
import type { Reporter } from "../api/progress.js";
import { pruneCache } from "../oci/index.js";
import type { Paths } from "../paths/index.js";
import { ociCacheDir } from "./pull.js";
import { ensureDefaultImage as ensure } from "./default-image.js";
import type { ImageInfo } from "./manifest.js";
import { createRootOverlay as makeOverlay } from "./root-overlay.js";
import { getImage as get, listImages as list } from "./store.js";
import { createWorkDisk as makeWorkDisk } from "./work-disk.js";

export type { ImageInfo } from "./manifest.js";

/** Name of the image built locally on first use ("debian-bookworm"): systemd and sshd. */
export { DEFAULT_IMAGE } from "./default-image.js";

/**
 * Returns the published default image, building it first when its manifest does not exist
 * (about a minute: mmdebstrap from `mirror`, "" meaning http://deb.debian.org/debian, then
 * mkfs.ext4 sized at 1.5x the tree, at least 1 GiB). Idempotent; concurrent calls in one
 * process share one build (started with the first caller's mirror), each getting the progress
 * events from when it joined. An aborting caller rejects at once unless it is the last one:
 * then the build is stopped and the caller rejects once the staging dir is gone. Reports steps
 * `image.bootstrap` (with an `items` progress event per mmdebstrap stage, total 7),
 * `image.configure`, `image.mkfs`, `image.publish`.
 *
 * Rejects with IMAGE_BUILD_FAILED (mmdebstrap's stderr tail in the message; also on abort,
 * with an INTERRUPTED cause), NO_SPACE when the disk fills, INVALID_ARGUMENT for a mirror that
 * is not an http(s) URL, IMAGE_NOT_FOUND when a corrupt image is already in place. A failed
 * build leaves nothing behind in `stagingDir` or `imagesDir`. Needs root (mmdebstrap's root
 * mode), mmdebstrap and e2fsprogs; mmdebstrap times out after 30 min, mkfs after 10.
 */
export function ensureDefaultImage(opts: {
  paths: Paths;
  mirror: string;
  report: Reporter;
  signal?: AbortSignal;
}): Promise<ImageInfo> {
  return ensure(opts);
}

/**
 * Returns the published image `name`. Rejects with INVALID_NAME for a name that is not a safe
 * directory name, and with IMAGE_NOT_FOUND (hint `banger image list`) when it does not exist
 * or its manifest or rootfs is missing or corrupt (the message names the file). Reads only.
 */
export function getImage(paths: Paths, name: string): Promise<ImageInfo> {
  return get(paths, name);
}

/**
 * Returns every usable published image, sorted by name; [] when `imagesDir` does not exist.
 * Directories that are not usable images (bad name, corrupt manifest) are left out.
 */
export function listImages(paths: Paths): Promise<ImageInfo[]> {
  return list(paths);
}

/**
 * Creates `overlayPath`, a qcow2 layer over the raw image `baseRawPath` (recorded as an
 * absolute backing path, format raw), checked to be under 10 MiB. Not idempotent: rejects
 * with DISK_SETUP_FAILED when `overlayPath` already exists (and leaves it alone), or when
 * qemu-img fails (missing base, say); NO_SPACE when the disk is full. A half-made overlay is
 * removed. Times out after 30 s.
 */
export function createRootOverlay(opts: {
  baseRawPath: string;
  overlayPath: string;
}): Promise<void> {
  return makeOverlay(opts);
}

/**
 * Creates `path`, a sparse file of `sizeBytes` (at least 16 MiB, else INVALID_SIZE) holding an
 * ext4 filesystem labelled `banger-work` whose root directory is 0700 root:root, filled from
 * `skelDir` (owners and modes kept) when given. Not idempotent: rejects with DISK_SETUP_FAILED
 * when `path` exists (and leaves it alone) or mkfs/debugfs fail, NO_SPACE when the disk is
 * full; a half-made file is removed.
 */
export function createWorkDisk(opts: {
  path: string;
  sizeBytes: number;
  skelDir?: string;
}): Promise<void> {
  return makeWorkDisk(opts);
}

/**
 * Removes a staging directory (or the whole staging root) left by an interrupted build.
 * Mounts a killed mmdebstrap left inside (/dev, /proc, /sys binds) are unmounted first, so
 * the delete can never reach the host's /dev; IMAGE_BUILD_FAILED if one stays mounted.
 */
export { removeStagingDir } from "./staging.js";

/**
 * Registers the ext4 file `rootfs` as image `name` without copying it (it must stay in place).
 * Records whether it carries the guest agent. Rejects with INVALID_NAME, IMAGE_EXISTS, or
 * INVALID_ARGUMENT when the file is missing or not ext4. Publishes atomically.
 */
export { registerImage, deleteImage, type RegisterOptions } from "./register.js";

/**
 * Pulls the OCI image `ref` and publishes it as image `name` (default from the reference,
 * `debian:bookworm` → `debian-bookworm`): layers are fetched into `<cacheDir>/oci` (verified,
 * reused by later pulls), flattened under `<stagingDir>/pull-<name>-*`, adjusted like the
 * default image (fstab, networkd, host keys removed, machine-id emptied, root locked, guest
 * agent), written as ext4 (`sizeBytes`, else 1.5x the tree, at least 1 GiB) and renamed into
 * the store. An image without systemd or sshd gets a first-boot install by its package manager
 * and `needsNat: true`. Manifest source: `oci:<canonical ref>@<digest>`.
 *
 * Reports the oci steps (`oci-download` with byte progress), `image.configure`, `image.mkfs`,
 * `image.publish`, then one info note with the size and the time taken. Idempotent per
 * reference: when `name` already holds this reference at the digest the registry names now, it
 * is returned after one manifest request (an info note says so); a `name` holding anything else
 * rejects with IMAGE_EXISTS before any layer is fetched. Abort or failure removes the staging
 * dir and publishes nothing. Errors: those of the oci module's pullImage (REGISTRY_*,
 * IMAGE_DIGEST_MISMATCH, IMAGE_LAYER_UNSAFE, ...), INVALID_NAME, IMAGE_EXISTS,
 * IMAGE_UNSUPPORTED (no systemd/sshd and an unknown distribution), NO_SPACE,
 * IMAGE_BUILD_FAILED (mkfs; times out after 10 min). Needs root, e2fsprogs and /bin/busybox.
 */
export { pullToStore as pullImage, ociCacheDir, type PullOptions } from "./pull.js";

/**
 * Empties the OCI blob cache (`<cacheDir>/oci`), keeping downloads in flight; with `dryRun` it
 * only counts. Resolves with the bytes and files freed (or that would be). Idempotent.
 */
export function pruneImageCache(
  paths: Paths,
  dryRun: boolean,
): Promise<{ freedBytes: number; removedFiles: number }> {
  return pruneCache(ociCacheDir(paths), { dryRun });
}
