// Private: building the default image (Debian bookworm via mmdebstrap) in a staging dir and
// publishing it into the image store with one rename.
import { access, mkdir } from "node:fs/promises";
import path from "node:path";
import { step, type Reporter } from "../api/progress.js";
import { BangerError, isBangerError, isErrno } from "../errors/index.js";
import { imageDir, type Paths } from "../paths/index.js";
import { copyRootSkel, prepareGuestTree } from "./guest-tree.js";
import { MANIFEST_FILE, ROOTFS_FILE, ROOT_SKEL_DIR, type ImageInfo } from "./manifest.js";
import { DEFAULT_MIRROR, DEFAULT_SUITE, bootstrap, checkMirror } from "./mmdebstrap.js";
import { isNoSpace } from "./no-space.js";
import { makeRootfs, publishImage } from "./publish.js";
import { createBuildSharer } from "./shared-build.js";
import { makeStagingDir, removeStagingDir } from "./staging.js";
import { getImage } from "./store.js";

export const DEFAULT_IMAGE = "debian-bookworm";

const shareBuild = createBuildSharer<ImageInfo>();

export interface EnsureDefaultImageOptions {
  paths: Paths;
  /** Debian mirror URL; "" means http://deb.debian.org/debian. */
  mirror: string;
  report: Reporter;
  signal?: AbortSignal;
}

export async function ensureDefaultImage(opts: EnsureDefaultImageOptions): Promise<ImageInfo> {
  const published = await findPublished(opts.paths);
  if (published !== undefined) return published;

  const mirror = opts.mirror === "" ? DEFAULT_MIRROR : opts.mirror;
  checkMirror(mirror);
  const interrupted = (): Error =>
    new BangerError("IMAGE_BUILD_FAILED", `cannot build image "${DEFAULT_IMAGE}": interrupted`, {
      cause: new BangerError("INTERRUPTED", "the request was cancelled"),
    });
  return shareBuild(
    opts.paths.imagesDir,
    (report, signal) => buildDefaultImage(opts.paths, mirror, report, signal),
    opts.report,
    opts.signal,
    interrupted,
  );
}

/** The published default image, undefined when there is none; a corrupt one rejects. */
async function findPublished(paths: Paths): Promise<ImageInfo | undefined> {
  try {
    return await getImage(paths, DEFAULT_IMAGE);
  } catch (err) {
    if (!isBangerError(err, "IMAGE_NOT_FOUND")) throw err;
    if (await exists(path.join(imageDir(paths, DEFAULT_IMAGE), MANIFEST_FILE))) throw err;
    return undefined;
  }
}

async function buildDefaultImage(
  paths: Paths,
  mirror: string,
  report: Reporter,
  signal: AbortSignal,
): Promise<ImageInfo> {
  const staging = await makeStagingDir(paths.stagingDir, `image-${DEFAULT_IMAGE}`);
  let image: ImageInfo;
  try {
    image = await buildIn(staging, paths, mirror, report, signal);
  } catch (err) {
    const failure = buildError(err, paths);
    await removeStagingDir(staging).catch((cleanupErr: unknown) => {
      throw withCleanupFailure(failure, cleanupErr);
    });
    throw failure;
  }
  await removeStagingDir(staging).catch((err: unknown) => {
    // The image is published; a leftover tree only costs space until the next daemon start.
    const why = err instanceof Error ? err.message : String(err);
    report({ type: "note", level: "warn", message: why });
  });
  return image;
}

async function buildIn(
  staging: string,
  paths: Paths,
  mirror: string,
  report: Reporter,
  signal: AbortSignal,
): Promise<ImageInfo> {
  const rootDir = path.join(staging, "root");
  const outDir = path.join(staging, "image");
  const bootstrapMsg = `Bootstrapping Debian ${DEFAULT_SUITE} from ${mirror}`;
  await step(report, "image.bootstrap", bootstrapMsg, () =>
    bootstrap({ rootDir, mirror, report, stepId: "image.bootstrap", signal }),
  );

  signal.throwIfAborted();
  await step(report, "image.configure", "Configuring the guest tree", async () => {
    await prepareGuestTree(rootDir);
    await mkdir(outDir);
    await copyRootSkel(rootDir, path.join(outDir, ROOT_SKEL_DIR));
  });

  signal.throwIfAborted();
  await step(report, "image.mkfs", "Writing the ext4 root filesystem", () =>
    makeRootfs(rootDir, path.join(outDir, ROOTFS_FILE), { signal }),
  );

  signal.throwIfAborted();
  return step(report, "image.publish", `Publishing image ${DEFAULT_IMAGE}`, () =>
    publish(paths, outDir),
  );
}

async function publish(paths: Paths, outDir: string): Promise<ImageInfo> {
  const manifest = {
    formatVersion: 1 as const,
    name: DEFAULT_IMAGE,
    source: `mmdebstrap:${DEFAULT_SUITE}`,
    agent: true,
    createdAt: new Date().toISOString(),
  };
  return publishImage(paths, outDir, manifest, async (err) => {
    // Another process may have published first; its image is as good as ours.
    const theirs = await findPublished(paths);
    if (theirs !== undefined) return theirs;
    const finalDir = imageDir(paths, DEFAULT_IMAGE);
    throw new BangerError("IMAGE_BUILD_FAILED", `"${finalDir}" exists but holds no image`, {
      hint: `remove it with \`banger image delete ${DEFAULT_IMAGE}\` and run the command again`,
      cause: err,
    });
  });
}

function buildError(err: unknown, paths: Paths): BangerError {
  const why = err instanceof Error ? err.message : String(err);
  if (isNoSpace(err)) {
    return new BangerError("NO_SPACE", `cannot build image "${DEFAULT_IMAGE}": ${why}`, {
      hint: `free some space on the disk holding "${paths.stateDir}" and run the command again`,
      cause: err,
    });
  }
  if (isBangerError(err, "IMAGE_BUILD_FAILED") && why.startsWith("cannot build")) return err;
  const hint =
    isBangerError(err) && err.hint !== undefined
      ? err.hint
      : "check that the Debian mirror is reachable, then run the command again " +
        "(`banger doctor` checks the host tools)";
  return new BangerError("IMAGE_BUILD_FAILED", `cannot build image "${DEFAULT_IMAGE}": ${why}`, {
    hint,
    cause: err,
  });
}

/** The build's error, extended by the more urgent news that its staging dir is still there. */
function withCleanupFailure(failure: BangerError, cleanupErr: unknown): BangerError {
  const why = cleanupErr instanceof Error ? cleanupErr.message : String(cleanupErr);
  const hint = isBangerError(cleanupErr) ? cleanupErr.hint : failure.hint;
  return new BangerError(failure.code, `${failure.message}; then ${why}`, {
    ...(hint === undefined ? {} : { hint }),
    cause: failure,
  });
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch (err) {
    if (isErrno(err, "ENOENT")) return false;
    throw err;
  }
}
