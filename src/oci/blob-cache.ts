// Private: the content-addressed blob cache. A blob is usable only after its bytes hashed to its
// digest; files appear atomically (tmp + rename) and concurrent pulls of one blob share a fetch.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { BangerError, isErrno } from "../errors/index.js";

/** Longest wait for the next chunk of a blob body. */
export const BLOB_IDLE_TIMEOUT_MS = 30_000;

export interface EnsureBlobOptions {
  cacheDir: string;
  digest: string;
  sizeBytes: number;
  /** Starts the download; the response body is read here. */
  download: (signal: AbortSignal) => Promise<Response>;
  /** Names the blob's source in errors ("registry \"x\""). */
  source: string;
  signal?: AbortSignal;
  onProgress?: (currentBytes: number, totalBytes: number) => void;
}

interface Flight {
  promise: Promise<string>;
  controller: AbortController;
  waiting: number;
  tmpPath: string;
}

const flights = new Map<string, Flight>();

export function blobPath(cacheDir: string, digest: string): string {
  return path.join(cacheDir, "sha256", digest.slice("sha256:".length));
}

/**
 * The path of the verified blob, downloading it when the cache lacks it or holds a corrupt
 * copy. A downloaded blob that does not match fails with IMAGE_DIGEST_MISMATCH and leaves
 * nothing behind.
 */
export async function ensureBlob(opts: EnsureBlobOptions): Promise<string> {
  const finalPath = blobPath(opts.cacheDir, opts.digest);
  let flight = flights.get(finalPath);
  if (flight === undefined) {
    const controller = new AbortController();
    const tmpPath = path.join(
      opts.cacheDir,
      "tmp",
      `${opts.digest.slice(7)}.${process.pid}.${randomBytes(4).toString("hex")}`,
    );
    const created: Flight = { controller, waiting: 0, tmpPath, promise: Promise.resolve("") };
    created.promise = fill(opts, finalPath, tmpPath, controller.signal).finally(() =>
      flights.delete(finalPath),
    );
    flights.set(finalPath, created);
    flight = created;
  }
  return join(flight, opts.signal);
}

/** Waits for a shared fetch; the fetch stops only when every waiter has given up. */
async function join(flight: Flight, signal: AbortSignal | undefined): Promise<string> {
  flight.waiting++;
  if (signal === undefined) return flight.promise;
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      if (--flight.waiting === 0) flight.controller.abort();
      reject(new BangerError("INTERRUPTED", "blob download interrupted"));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    return await Promise.race([flight.promise, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

async function fill(
  opts: EnsureBlobOptions,
  finalPath: string,
  tmpPath: string,
  signal: AbortSignal,
): Promise<string> {
  if ((await hashFile(finalPath)) === opts.digest) return finalPath;
  // A cached copy that no longer matches (disk damage, tampering) is fetched again.
  await rm(finalPath, { force: true });
  await mkdir(path.dirname(finalPath), { recursive: true });
  await mkdir(path.dirname(tmpPath), { recursive: true });
  try {
    const got = await downloadTo(opts, tmpPath, signal);
    if (got !== opts.digest) throw mismatch(opts, got);
    await rename(tmpPath, finalPath);
    return finalPath;
  } finally {
    await rm(tmpPath, { force: true });
  }
}

function mismatch(opts: EnsureBlobOptions, got: string): BangerError {
  return new BangerError(
    "IMAGE_DIGEST_MISMATCH",
    `blob "${opts.digest}" from ${opts.source} does not match its digest: ` +
      `its content hashes to "${got}"; the blob was discarded`,
    { hint: "retry the pull; if it fails again the registry or a proxy serves corrupt data" },
  );
}

/** Streams the body into `tmpPath` and returns its digest; stops early past the declared size. */
async function downloadTo(
  opts: EnsureBlobOptions,
  tmpPath: string,
  signal: AbortSignal,
): Promise<string> {
  const idle = new AbortController();
  let timer = setTimeout(() => idle.abort(), BLOB_IDLE_TIMEOUT_MS);
  const both = AbortSignal.any([signal, idle.signal]);
  const hash = createHash("sha256");
  const fh = await open(tmpPath, "wx", 0o644);
  let current = 0;
  try {
    const res = await opts.download(both);
    if (res.body === null) throw new Error("empty body");
    for await (const chunk of res.body) {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), BLOB_IDLE_TIMEOUT_MS);
      current += chunk.byteLength;
      if (current > opts.sizeBytes) {
        await res.body.cancel().catch(() => {});
        throw new BangerError(
          "IMAGE_DIGEST_MISMATCH",
          `blob "${opts.digest}" from ${opts.source} is larger than the ${opts.sizeBytes} bytes ` +
            "its manifest declares; the blob was discarded",
          { hint: "retry the pull; if it fails again the registry serves corrupt data" },
        );
      }
      hash.update(chunk);
      await fh.write(chunk);
      opts.onProgress?.(current, opts.sizeBytes);
    }
  } catch (err) {
    if (idle.signal.aborted) {
      throw new BangerError(
        "REGISTRY_UNREACHABLE",
        `download of blob "${opts.digest}" from ${opts.source} stalled: ` +
          `no data for ${BLOB_IDLE_TIMEOUT_MS} ms`,
        { hint: "retry the pull", cause: err },
      );
    }
    if (signal.aborted)
      throw new BangerError("INTERRUPTED", "blob download interrupted", { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
    await fh.close();
  }
  return `sha256:${hash.digest("hex")}`;
}

/** The digest of a file, or undefined when it does not exist. */
export async function hashFile(file: string): Promise<string | undefined> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  return `sha256:${hash.digest("hex")}`;
}

export interface PruneResult {
  /** Bytes the removed files held (or would hold, on a dry run). */
  freedBytes: number;
  removedFiles: number;
}

/** Removes every cached blob and stale partial download, except downloads running now. */
export async function pruneCache(
  cacheDir: string,
  opts: { dryRun?: boolean } = {},
): Promise<PruneResult> {
  const busy = new Set([...flights.values()].map((f) => f.tmpPath));
  const result: PruneResult = { freedBytes: 0, removedFiles: 0 };
  for (const sub of ["sha256", "tmp"]) {
    const dir = path.join(cacheDir, sub);
    for (const name of await readdirOrEmpty(dir)) {
      const file = path.join(dir, name);
      if (busy.has(file)) continue;
      const st = await stat(file).catch((err: unknown) => {
        if (isErrno(err, "ENOENT")) return undefined;
        throw err;
      });
      if (st === undefined || !st.isFile()) continue;
      if (opts.dryRun !== true) await rm(file, { force: true });
      result.freedBytes += st.size;
      result.removedFiles++;
    }
  }
  return result;
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return [];
    throw err;
  }
}
