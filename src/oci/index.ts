// OCI images from registries: references, banger's own registry client, the digest-verified
// blob cache, and layers flattened (with whiteouts) into a staging root tree.
import type { ImageReference } from "./reference.js";
import type { PulledImage, PullImageOptions } from "./pull-image.js";
import type { PruneResult } from "./blob-cache.js";
import { defaultImageName as nameOf, parseReference as parse } from "./reference.js";
import { pullImage as pull } from "./pull-image.js";
import { pruneCache as prune } from "./blob-cache.js";

export type { ImageReference } from "./reference.js";
export type { PulledImage, PulledLayer, PullImageOptions } from "./pull-image.js";
export type { ImageConfig } from "./manifest.js";
export type { PruneResult } from "./blob-cache.js";

/**
 * Parses a reference as Docker writes it (`debian`, `library/debian:12`, `ghcr.io/o/n:tag`,
 * `host:5000/n@sha256:…`). The registry defaults to `docker.io` (where a one-part name gets
 * `library/`), the tag to `latest` when neither tag nor digest is given. A first part with a
 * dot, a colon or `localhost` is a registry host. Pure; throws INVALID_ARGUMENT naming the
 * input for anything Docker would refuse (uppercase, `..`, a digest that is not sha256).
 */
export function parseReference(ref: string): ImageReference {
  return parse(ref);
}

/**
 * A default image name for a reference, valid as a DNS label: the repository's last part and
 * the tag (`debian:bookworm` → `debian-bookworm`, `alpine` → `alpine`, a digest → its first
 * 12 hex digits). Throws like parseReference for a bad string.
 */
export function defaultImageName(ref: string | ImageReference): string {
  return nameOf(ref);
}

/**
 * Pulls `ref` and flattens it into a new directory `<stagingRoot>/rootfs` (returned as
 * `rootDir`; it must not exist yet, stagingRoot is created). The result carries the digest the
 * reference resolved to, the linux/amd64 manifest digest, the image config and the layers.
 *
 * Network: HTTPS, or plain HTTP when `insecure` is set or the registry is on loopback.
 * Anonymous, bearer-token (WWW-Authenticate realm/service/scope) and basic auth, with
 * credentials from `dockerConfigPath` (default `$DOCKER_CONFIG/config.json` or
 * `~/.docker/config.json`, `auths` with base64 `auth`; credential helpers are not read).
 * HTTP_PROXY, HTTPS_PROXY and NO_PROXY are honoured (undici's EnvHttpProxyAgent). Each request waits at most 10 s for its headers and each blob at most 30 s
 * for its next chunk; 429 and 5xx are retried 3 times (0.5, 1, 2 s, or Retry-After up to 10 s).
 *
 * Images: Docker v2 and OCI manifests and indexes (an index resolves to linux/amd64); layers
 * plain, gzip or zstd (zstd needs the host's `zstd`). Blobs land in `<cacheDir>/sha256/<hex>`
 * (give the cache a dir of its own; partial downloads sit in `<cacheDir>/tmp/`), verified
 * while they stream and renamed into place only when they match; a cached blob is hashed
 * again before use and fetched anew if it no longer matches. Concurrent pulls of one blob in
 * this process share one download. Each layer's uncompressed stream is checked against the
 * config's diff_id.
 *
 * Layers are applied in order with whiteouts and opaque dirs, keeping owners, modes, setuid
 * bits, hard links, symlinks and device nodes (runs `mknod`; needs root). Entries are hostile:
 * a leading "/" is dropped, ".." and unstorable names are refused, and symlinks are resolved as
 * if chrooted into rootDir, so nothing is written outside it. Extended attributes (file
 * capabilities) are not kept.
 *
 * Reports steps `oci-resolve`, `oci-config`, `oci-download` (byte progress), `oci-unpack`
 * (layer progress). On failure rootDir is removed; the cache keeps verified blobs.
 *
 * Errors: INVALID_ARGUMENT (reference), REGISTRY_UNREACHABLE (unknown host, refused, TLS,
 * timeout; names the registry), REGISTRY_UNAUTHORIZED (hint: `docker login`),
 * REGISTRY_NOT_FOUND (names repository and tag), REGISTRY_FAILED, IMAGE_UNSUPPORTED (media
 * type or platform, named), IMAGE_DIGEST_MISMATCH (blob discarded), IMAGE_LAYER_UNSAFE (names
 * layer and entry), CONFIG_INVALID (Docker config), NO_SPACE, HOST_MISSING_TOOL, INTERRUPTED.
 */
export function pullImage(opts: PullImageOptions): Promise<PulledImage> {
  return pull(opts);
}

/**
 * Removes every blob and stale partial download from `cacheDir` (downloads running in this
 * process are kept) and returns the bytes and files freed; with `dryRun` it only counts them.
 * Idempotent; a missing cacheDir frees 0 bytes.
 */
export function pruneCache(
  cacheDir: string,
  opts: { dryRun?: boolean } = {},
): Promise<PruneResult> {
  return prune(cacheDir, opts);
}

/**
 * The canonical reference and the digest `ref` names now (an index digest for multi-arch
 * images), from one or two manifest requests; no layer is fetched and nothing is written.
 * Network, credentials and errors as for pullImage (REGISTRY_*, IMAGE_UNSUPPORTED,
 * IMAGE_DIGEST_MISMATCH, INVALID_ARGUMENT).
 */
export { resolveDigest, type ResolveDigestOptions } from "./resolve-digest.js";
