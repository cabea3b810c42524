// Private: the Debian archive as a source of kernels: signed index → package → verified .deb.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { BangerError, isErrno } from "../errors/index.js";
import { run } from "../host/index.js";
import type { Reporter } from "../api/progress.js";
import { download } from "./download.js";
import { collectStanzas, resolveKernelPackage, type PoolPackage } from "./packages-index.js";
import { DEBIAN_KEYRING, findSha256, verifyInRelease } from "./release-file.js";

const PACKAGES_INDEX = "main/binary-amd64/Packages.xz";
const XZ_TIMEOUT_MS = 120_000;
const MAX_INRELEASE_BYTES = 4 << 20;

export interface ArchiveSource {
  mirror: string;
  suite: string;
  signal?: AbortSignal;
  /** Test seam: the keyring gpgv checks InRelease against. */
  keyringPath?: string;
}

/**
 * Finds the concrete kernel package behind `metapackage` in `suite`, trusting only what the
 * archive key signed: InRelease → SHA256 of Packages.xz → the package's SHA256. Scratch files
 * go to `workDir`.
 */
export async function resolvePackage(
  src: ArchiveSource,
  metapackage: string,
  workDir: string,
): Promise<PoolPackage> {
  const base = `${src.mirror}/dists/${src.suite}`;
  const inRelease = path.join(workDir, "InRelease");
  await download({
    url: `${base}/InRelease`,
    destPath: inRelease,
    ...sig(src),
    maxBytes: MAX_INRELEASE_BYTES,
  });
  const release = await verifyInRelease(
    inRelease,
    path.join(workDir, "Release"),
    src.keyringPath ?? DEBIAN_KEYRING,
    `${base}/InRelease`,
    src.signal,
  );

  const entry = findSha256(release, PACKAGES_INDEX);
  if (entry === undefined) {
    throw new BangerError(
      "KERNEL_FETCH_FAILED",
      `cannot use "${base}": no ${PACKAGES_INDEX} in InRelease`,
      {
        hint: "check the suite name and the mirror",
      },
    );
  }
  const packagesXz = path.join(workDir, "Packages.xz");
  await download({
    url: `${base}/${PACKAGES_INDEX}`,
    destPath: packagesXz,
    expectSha256: entry.sha256,
    maxBytes: entry.sizeBytes,
    ...sig(src),
  });
  await run("xz", ["--decompress", "--keep", "--", packagesXz], {
    timeoutMs: XZ_TIMEOUT_MS,
    ...sig(src),
  });

  const lines = createInterface({ input: createReadStream(path.join(workDir, "Packages")) });
  const stanzas = await collectStanzas(
    lines,
    (n) => n === metapackage || n.startsWith("linux-image-"),
  );
  return resolveKernelPackage(stanzas, metapackage);
}

/**
 * The path of `pkg`'s .deb in `cacheDir` (named by its SHA-256), downloading it when absent.
 * A cached file is re-hashed before use; a bad one is replaced.
 */
export async function fetchDeb(
  src: ArchiveSource,
  pkg: PoolPackage,
  cacheDir: string,
  report: Reporter,
  stepId: string,
): Promise<string> {
  await mkdir(cacheDir, { recursive: true });
  const cached = path.join(cacheDir, `${pkg.sha256}.deb`);
  if ((await sha256File(cached)) === pkg.sha256) return cached;

  const partial = `${cached}.partial-${randomBytes(4).toString("hex")}`;
  await download({
    url: `${src.mirror}/${pkg.filename}`,
    destPath: partial,
    expectSha256: pkg.sha256,
    maxBytes: pkg.sizeBytes,
    ...sig(src),
    onProgress: (current) =>
      report({ type: "progress", step: stepId, current, total: pkg.sizeBytes, unit: "bytes" }),
  });
  try {
    await rename(partial, cached);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return cached;
}

async function sha256File(file: string): Promise<string | undefined> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  return hash.digest("hex");
}

function sig(src: ArchiveSource): { signal?: AbortSignal } {
  return src.signal === undefined ? {} : { signal: src.signal };
}
