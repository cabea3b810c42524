// Private: `image pull`: an OCI image from a registry flattened into a staging tree, adjusted
// into a banger guest, written as ext4 and published into the image store.
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { step, type Reporter } from "../api/progress.js";
import { BangerError, isBangerError, isErrno } from "../errors/index.js";
import { imageDir, type Paths } from "../paths/index.js";
import { defaultImageName, parseReference, pullImage, resolveDigest } from "../oci/index.js";
import { copyRootSkel } from "./guest-tree.js";
import { ROOTFS_FILE, ROOT_SKEL_DIR, type ImageInfo, type ImageManifest } from "./manifest.js";
import { isNoSpace } from "./no-space.js";
import { makeRootfs, publishImage } from "./publish.js";
import { adaptPulledTree } from "./pulled-tree.js";
import { makeStagingDir, removeStagingDir } from "./staging.js";
import { checkImageName, getImage } from "./store.js";

export interface PullOptions {
  paths: Paths;
  /** An OCI reference as Docker writes it. */
  ref: string;
  /** Image name; default from the reference (`debian:bookworm` → `debian-bookworm`). */
  name?: string;
  /** Plain HTTP to the registry (loopback registries get it anyway). */
  insecure?: boolean;
  /** Size of the ext4 file; default 1.5x the tree, at least 1 GiB. */
  sizeBytes?: number;
  /** Kernel to record as the image's preferred one. */
  kernel?: string;
  report: Reporter;
  signal?: AbortSignal;
}

/** The cache of registry blobs, apart from the kernel's .deb cache in the same cacheDir. */
export function ociCacheDir(paths: Paths): string {
  return path.join(paths.cacheDir, "oci");
}

export async function pullToStore(opts: PullOptions): Promise<ImageInfo> {
  const ref = parseReference(opts.ref);
  const name = opts.name ?? defaultImageName(ref);
  checkImageName(name);
  const current = await upToDate(opts, name);
  if (current !== undefined) return current;

  const started = performance.now();
  const staging = await makeStagingDir(opts.paths.stagingDir, `pull-${name}`);
  let image: ImageInfo;
  try {
    image = await pullIn(staging, name, opts);
  } catch (err) {
    await removeStagingDir(staging).catch(() => undefined);
    throw pullError(err, opts.ref, opts.paths);
  }
  await removeStagingDir(staging).catch((err: unknown) => {
    const why = err instanceof Error ? err.message : String(err);
    opts.report({ type: "note", level: "warn", message: why });
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const size = `${Math.round(image.sizeBytes / 2 ** 20)} MiB`;
  opts.report({
    type: "note",
    level: "info",
    message: `Pulled ${image.source.slice(4)} as image ${name}: ${size} ext4 in ${seconds} s`,
  });
  return image;
}

async function pullIn(staging: string, name: string, opts: PullOptions): Promise<ImageInfo> {
  const { report, signal } = opts;
  const pulled = await pullImage({
    ref: opts.ref,
    cacheDir: ociCacheDir(opts.paths),
    stagingRoot: staging,
    report,
    ...(opts.insecure === true ? { insecure: true } : {}),
    ...(signal === undefined ? {} : { signal }),
  });

  signal?.throwIfAborted();
  const outDir = path.join(staging, "image");
  const adapted = await step(report, "image.configure", "Configuring the guest tree", async () => {
    const result = await adaptPulledTree(pulled.rootDir);
    await mkdir(outDir);
    await copySkel(pulled.rootDir, path.join(outDir, ROOT_SKEL_DIR));
    return result;
  });
  if (adapted.needsNat) {
    const missing = [adapted.hasSystemd ? "" : "systemd", adapted.hasSshd ? "" : "sshd"];
    const what = missing.filter(Boolean).join(" and ");
    report({
      type: "note",
      level: "info",
      message: `the image has no ${what}: its first boot installs them and needs --nat`,
    });
  }

  signal?.throwIfAborted();
  await step(report, "image.mkfs", "Writing the ext4 root filesystem", () =>
    makeRootfs(pulled.rootDir, path.join(outDir, ROOTFS_FILE), {
      sizeBytes: opts.sizeBytes,
      signal,
    }),
  );

  signal?.throwIfAborted();
  const manifest: ImageManifest = {
    formatVersion: 1,
    name,
    source: `oci:${pulled.ref}@${pulled.digest}`,
    agent: true,
    ...(adapted.needsNat ? { needsNat: true } : {}),
    ...(opts.kernel === undefined ? {} : { kernel: opts.kernel }),
    createdAt: new Date().toISOString(),
  };
  return step(report, "image.publish", `Publishing image ${name}`, () =>
    publishImage(opts.paths, outDir, manifest, (err) => Promise.reject(taken(name, err))),
  );
}

/** A pulled tree may have no /root at all; the work disk then starts empty. */
async function copySkel(rootDir: string, dest: string): Promise<void> {
  try {
    if ((await stat(path.join(rootDir, "root"))).isDirectory()) {
      await copyRootSkel(rootDir, dest);
      return;
    }
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
  await mkdir(dest, { mode: 0o700 });
}

/**
 * The image already published as `name` when it came from this reference at the digest the
 * registry names now (a repeated pull is then one manifest request); IMAGE_EXISTS when the name
 * holds anything else, undefined when it is free.
 */
async function upToDate(opts: PullOptions, name: string): Promise<ImageInfo | undefined> {
  try {
    await stat(imageDir(opts.paths, name));
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  const existing = await getImage(opts.paths, name).catch(() => undefined);
  if (existing === undefined || !existing.source.startsWith("oci:")) throw taken(name, undefined);
  const now = await resolveDigest({
    ref: opts.ref,
    ...(opts.insecure === true ? { insecure: true } : {}),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  if (existing.source !== `oci:${now.ref}@${now.digest}`) throw taken(name, undefined);
  const message = `image ${name} is up to date with ${now.ref}@${now.digest}`;
  opts.report({ type: "note", level: "info", message });
  return existing;
}

function taken(name: string, cause: unknown): BangerError {
  return new BangerError("IMAGE_EXISTS", `cannot pull into image "${name}": it exists`, {
    hint: `choose another --name, or remove it first with \`banger image delete ${name}\``,
    cause,
  });
}

function pullError(err: unknown, ref: string, paths: Paths): unknown {
  if (isNoSpace(err) && !isBangerError(err, "NO_SPACE")) {
    const why = err instanceof Error ? err.message : String(err);
    return new BangerError("NO_SPACE", `cannot pull "${ref}": ${why}`, {
      hint: `free some space on the disk holding "${paths.stateDir}" and pull again`,
      cause: err,
    });
  }
  if (isBangerError(err)) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new BangerError("IMAGE_BUILD_FAILED", `cannot pull "${ref}": ${why}`, {
    hint: "run the pull again; `banger doctor` checks the host tools",
    cause: err,
  });
}
