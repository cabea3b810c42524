// Private: one image pull: resolve the reference to a linux/amd64 manifest, fill the blob cache,
// and flatten the layers into a fresh root tree under the caller's staging dir.
import { mkdir, readFile, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { step, type Reporter } from "../api/progress.js";
import { BangerError, isBangerError, isErrno } from "../errors/index.js";
import { applyLayer } from "./apply-layer.js";
import { ensureBlob } from "./blob-cache.js";
import { defaultDockerConfigPath, findCredentials } from "./docker-config.js";
import { openLayer } from "./layer-stream.js";
import {
  layerCompression,
  parseConfig,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
} from "./manifest.js";
import { resolveManifest, type ResolvedManifest } from "./resolve-manifest.js";
import { formatReference, parseReference, type ImageReference } from "./reference.js";
import { createRegistryClient, type RegistryClient } from "./registry-client.js";

const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const DOWNLOAD_CONCURRENCY = 3;

export interface PullImageOptions {
  ref: string | ImageReference;
  cacheDir: string;
  stagingRoot: string;
  insecure?: boolean;
  report: Reporter;
  signal?: AbortSignal;
  dockerConfigPath?: string;
}

export interface PulledLayer {
  digest: string;
  mediaType: string;
  sizeBytes: number;
}

export interface PulledImage {
  /** Canonical reference, e.g. `docker.io/library/debian:bookworm`. */
  ref: string;
  /** Digest of the manifest the reference named (an index for multi-arch images). */
  digest: string;
  /** Digest of the linux/amd64 image manifest (equal to `digest` for single-arch images). */
  manifestDigest: string;
  config: ImageConfig;
  layers: PulledLayer[];
  rootDir: string;
}

export async function pullImage(opts: PullImageOptions): Promise<PulledImage> {
  const ref = typeof opts.ref === "string" ? parseReference(opts.ref) : opts.ref;
  const insecure = opts.insecure === true;

  const credentials = await findCredentials(
    ref.registry,
    opts.dockerConfigPath ?? defaultDockerConfigPath(),
  );
  const client = createRegistryClient({ ref, insecure, credentials, signal: opts.signal });
  const name = formatReference(ref);

  const resolved = await step(opts.report, "oci-resolve", `Resolving ${name}`, () =>
    resolveManifest(client, ref),
  );
  const config = await step(opts.report, "oci-config", "Reading the image config", () =>
    fetchConfig(client, opts, resolved.manifest),
  );
  const layers = resolved.manifest.layers;
  checkLayers(name, layers, config);

  const blobs = await step(opts.report, "oci-download", `Downloading ${layers.length} layers`, () =>
    downloadLayers(client, opts, layers),
  );
  const rootDir = await makeRootDir(opts.stagingRoot);
  try {
    await step(opts.report, "oci-unpack", `Unpacking ${layers.length} layers`, () =>
      unpack(opts, rootDir, blobs, layers, config.diffIds),
    );
  } catch (err) {
    await rm(rootDir, { recursive: true, force: true });
    throw err;
  }
  const pulledLayers = layers.map((l) => ({
    digest: l.digest,
    mediaType: l.mediaType,
    sizeBytes: l.size,
  }));
  return { ref: name, ...digests(resolved), config, layers: pulledLayers, rootDir };
}

/** Refuses what cannot be unpacked before anything is downloaded. */
function checkLayers(name: string, layers: Descriptor[], config: ImageConfig): void {
  layers.forEach((l, i) => layerCompression(l, `layer ${i + 1} "${l.digest}"`));
  if (config.diffIds.length === layers.length) return;
  throw new BangerError(
    "REGISTRY_FAILED",
    `cannot use "${name}": its config lists ${config.diffIds.length} layers, ` +
      `its manifest ${layers.length}`,
    { hint: "the image is inconsistent; pull another tag" },
  );
}

function digests(r: ResolvedManifest): { digest: string; manifestDigest: string } {
  return { digest: r.digest, manifestDigest: r.manifestDigest };
}

function blobFetcher(
  client: RegistryClient,
  d: Descriptor,
): (signal: AbortSignal) => Promise<Response> {
  return (signal: AbortSignal): Promise<Response> =>
    client.get(`blobs/${d.digest}`, ["*/*"], `blob "${d.digest}"`, signal);
}

async function fetchConfig(
  client: RegistryClient,
  opts: PullImageOptions,
  m: ImageManifest,
): Promise<ImageConfig> {
  if (m.config.size > MAX_CONFIG_BYTES) {
    throw new BangerError(
      "IMAGE_UNSUPPORTED",
      `cannot use image config "${m.config.digest}": larger than ${MAX_CONFIG_BYTES} bytes`,
    );
  }
  const file = await ensureBlob({
    cacheDir: opts.cacheDir,
    digest: m.config.digest,
    sizeBytes: m.config.size,
    download: blobFetcher(client, m.config),
    source: `registry "${client.registry}"`,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  return parseConfig(await readFile(file), `image config "${m.config.digest}"`);
}

async function downloadLayers(
  client: RegistryClient,
  opts: PullImageOptions,
  layers: Descriptor[],
): Promise<string[]> {
  const total = layers.reduce((sum, l) => sum + l.size, 0);
  const done = new Array<number>(layers.length).fill(0);
  const paths = new Array<string>(layers.length);
  // The first failure stops the other downloads instead of letting them run on unwatched.
  const stop = new AbortController();
  const signal = AbortSignal.any([
    stop.signal,
    ...(opts.signal === undefined ? [] : [opts.signal]),
  ]);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < layers.length; i = next++) {
      const layer = layers[i] as Descriptor;
      paths[i] = await ensureBlob({
        cacheDir: opts.cacheDir,
        digest: layer.digest,
        sizeBytes: layer.size,
        download: blobFetcher(client, layer),
        source: `registry "${client.registry}"`,
        signal,
        onProgress: (current) => {
          done[i] = current;
          opts.report({
            type: "progress",
            step: "oci-download",
            current: sum(done),
            total,
            unit: "bytes",
          });
        },
      });
    }
  };
  const guarded = (): Promise<void> =>
    worker().catch((err: unknown) => {
      stop.abort();
      throw err;
    });
  await Promise.all(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, layers.length) }, guarded));
  return paths;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

async function makeRootDir(stagingRoot: string): Promise<string> {
  await mkdir(stagingRoot, { recursive: true });
  const rootDir = path.join(await realpath(stagingRoot), "rootfs");
  try {
    await mkdir(rootDir, { mode: 0o755 });
  } catch (err) {
    if (!isErrno(err, "EEXIST")) throw err;
    throw new Error(`pullImage: "${rootDir}" already exists`, { cause: err });
  }
  return rootDir;
}

async function unpack(
  opts: PullImageOptions,
  rootDir: string,
  blobs: string[],
  layers: Descriptor[],
  diffIds: string[],
): Promise<void> {
  for (const [i, blob] of blobs.entries()) {
    const label = `layer ${i + 1}/${blobs.length} "${layers[i]?.digest ?? ""}"`;
    try {
      opts.signal?.throwIfAborted();
      const tar = await openLayer(blob, diffIds[i]);
      await applyLayer({
        rootDir,
        tar,
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
    } catch (err) {
      throw wrapApplyError(err, label, opts.signal);
    }
    opts.report({
      type: "progress",
      step: "oci-unpack",
      current: i + 1,
      total: blobs.length,
      unit: "items",
    });
  }
}

function wrapApplyError(err: unknown, label: string, signal: AbortSignal | undefined): BangerError {
  if (signal?.aborted === true) {
    return new BangerError("INTERRUPTED", `unpacking ${label} interrupted`, { cause: err });
  }
  if (isBangerError(err)) {
    const hint = err.hint === undefined ? {} : { hint: err.hint };
    return new BangerError(err.code, `${label}: ${err.message}`, { ...hint, cause: err });
  }
  if (isErrno(err, "ENOSPC")) {
    return new BangerError("NO_SPACE", `cannot unpack ${label}: the disk is full`, {
      hint: "free space, then pull again",
      cause: err,
    });
  }
  const why = err instanceof Error ? err.message : String(err);
  return new BangerError("IMAGE_BUILD_FAILED", `cannot unpack ${label}: ${why}`, { cause: err });
}
