// Private: HTTP downloads to disk, hashed while they stream, with bounded waits.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { once } from "node:events";
import { BangerError } from "../errors/index.js";

/** Longest wait for the response headers or for the next chunk of the body. */
export const DOWNLOAD_IDLE_TIMEOUT_MS = 30_000;
const PROGRESS_EVERY_BYTES = 1 << 20;

export interface DownloadOptions {
  url: string;
  destPath: string;
  /** When given, a different SHA-256 deletes the file and fails with KERNEL_CHECKSUM_MISMATCH. */
  expectSha256?: string;
  /** Refuse bodies longer than this (the index says how big the file is). */
  maxBytes?: number;
  signal?: AbortSignal;
  idleTimeoutMs?: number;
  onProgress?: (currentBytes: number, totalBytes: number | undefined) => void;
}

/**
 * Downloads `url` to `destPath` and returns the SHA-256 (hex) of what was written. Fails with
 * KERNEL_FETCH_FAILED naming the URL on network errors, HTTP errors and stalls longer than the
 * idle timeout; with INTERRUPTED when `signal` aborts. A failed download leaves no file behind.
 */
export async function download(opts: DownloadOptions): Promise<string> {
  const idle = idleTimer(opts.idleTimeoutMs ?? DOWNLOAD_IDLE_TIMEOUT_MS);
  const signal =
    opts.signal === undefined ? idle.signal : AbortSignal.any([opts.signal, idle.signal]);
  try {
    const sha256 = await streamToFile(opts, signal, idle);
    if (opts.expectSha256 !== undefined && sha256 !== opts.expectSha256) {
      throw new BangerError(
        "KERNEL_CHECKSUM_MISMATCH",
        `cannot use "${opts.url}": its SHA-256 is "${sha256}", ` +
          `the signed index says "${opts.expectSha256}"`,
        { hint: "the mirror or a proxy served a corrupt file; retry, or pass another mirror" },
      );
    }
    return sha256;
  } catch (err) {
    await rm(opts.destPath, { force: true });
    if (opts.signal?.aborted === true) {
      throw new BangerError("INTERRUPTED", `download of "${opts.url}" interrupted`, { cause: err });
    }
    if (err instanceof BangerError) throw err;
    const why = idle.fired ? `no data for ${idle.ms} ms` : describe(err);
    throw new BangerError("KERNEL_FETCH_FAILED", `cannot download "${opts.url}": ${why}`, {
      hint: `check that the mirror answers: curl -I ${opts.url}`,
      cause: err,
    });
  } finally {
    idle.stop();
  }
}

async function streamToFile(
  opts: DownloadOptions,
  signal: AbortSignal,
  idle: IdleTimer,
): Promise<string> {
  const res = await fetch(opts.url, { signal, redirect: "follow" });
  if (!res.ok || res.body === null) {
    await res.body?.cancel();
    throw new BangerError(
      "KERNEL_FETCH_FAILED",
      `cannot download "${opts.url}": HTTP ${res.status} ${res.statusText}`,
      { hint: `check the mirror URL and suite: curl -I ${opts.url}` },
    );
  }
  const lengthHeader = Number(res.headers.get("content-length"));
  const total = Number.isFinite(lengthHeader) && lengthHeader > 0 ? lengthHeader : undefined;
  const hash = createHash("sha256");
  const out = createWriteStream(opts.destPath, { mode: 0o644 });
  let current = 0;
  let reported = 0;
  try {
    for await (const chunk of res.body) {
      idle.reset();
      current += chunk.byteLength;
      if (opts.maxBytes !== undefined && current > opts.maxBytes) {
        throw new BangerError(
          "KERNEL_CHECKSUM_MISMATCH",
          `cannot use "${opts.url}": it is larger than the ${opts.maxBytes} bytes the index says`,
          { hint: "the mirror or a proxy served a different file; retry, or pass another mirror" },
        );
      }
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, "drain");
      if (current - reported >= PROGRESS_EVERY_BYTES) {
        reported = current;
        opts.onProgress?.(current, total);
      }
    }
  } finally {
    out.end();
    await once(out, "close");
  }
  opts.onProgress?.(current, total);
  return hash.digest("hex");
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}

interface IdleTimer {
  readonly ms: number;
  readonly signal: AbortSignal;
  fired: boolean;
  reset: () => void;
  stop: () => void;
}

/** A signal that aborts when reset() has not been called for `ms` milliseconds. */
function idleTimer(ms: number): IdleTimer {
  const controller = new AbortController();
  const arm = (): NodeJS.Timeout =>
    setTimeout(() => {
      idle.fired = true;
      controller.abort(new Error(`no data for ${ms} ms`));
    }, ms);
  let timer = arm();
  const idle: IdleTimer = {
    ms,
    signal: controller.signal,
    fired: false,
    reset: () => {
      clearTimeout(timer);
      timer = arm();
    },
    stop: () => clearTimeout(timer),
  };
  return idle;
}
