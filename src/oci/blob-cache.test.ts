import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { blobPath, ensureBlob, pruneCache } from "./blob-cache.js";

let cacheDir = "";
before(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), "oci-cache-"));
});
after(() => rm(cacheDir, { recursive: true, force: true }));

const digestOf = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

function slowResponse(body: Buffer, signal: AbortSignal): Response {
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      await new Promise((r) => setTimeout(r, 50));
      if (signal.aborted) return controller.error(new Error("aborted"));
      controller.enqueue(body);
      controller.close();
    },
  });
  return new Response(stream);
}

test("concurrent callers share one download and get the verified file", async () => {
  const body = Buffer.from("layer bytes");
  let downloads = 0;
  const opts = {
    cacheDir,
    digest: digestOf(body),
    sizeBytes: body.length,
    source: "registry test",
    download: async (signal: AbortSignal) => {
      downloads++;
      return slowResponse(body, signal);
    },
  };
  const [a, b] = await Promise.all([ensureBlob(opts), ensureBlob(opts)]);
  assert.equal(a, b);
  assert.equal(downloads, 1);
  assert.deepEqual(await readFile(a), body);
  await ensureBlob(opts);
  assert.equal(downloads, 1, "a verified cached blob is not fetched again");
});

test("a wrong or oversized body fails with IMAGE_DIGEST_MISMATCH and leaves nothing", async () => {
  const want = Buffer.from("the real thing");
  for (const served of [Buffer.from("something else"), Buffer.from("the real thing, and more")]) {
    await assert.rejects(
      ensureBlob({
        cacheDir,
        digest: digestOf(want),
        sizeBytes: want.length,
        source: "registry test",
        download: async () => new Response(served),
      }),
      (err) => isBangerError(err, "IMAGE_DIGEST_MISMATCH") && err.message.includes(digestOf(want)),
    );
    await assert.rejects(readFile(blobPath(cacheDir, digestOf(want))), { code: "ENOENT" });
    assert.deepEqual(await readdir(path.join(cacheDir, "tmp")), []);
  }
});

test("the download stops only when every waiter has given up", async () => {
  const body = Buffer.from("shared");
  let sawAbort = false;
  const base = {
    cacheDir,
    digest: digestOf(body),
    sizeBytes: body.length,
    source: "registry test",
    download: async (signal: AbortSignal) => {
      signal.addEventListener("abort", () => (sawAbort = true));
      return slowResponse(body, signal);
    },
  };
  const quitter = new AbortController();
  const first = ensureBlob({ ...base, signal: quitter.signal });
  const second = ensureBlob({ ...base, signal: new AbortController().signal });
  quitter.abort();
  await assert.rejects(first, (err) => isBangerError(err, "INTERRUPTED"));
  assert.deepEqual(await readFile(await second), body);
  assert.equal(sawAbort, false);
});

test("pruneCache counts on a dry run, then frees, then finds nothing", async () => {
  const empty = await pruneCache(path.join(cacheDir, "missing"));
  assert.deepEqual(empty, { freedBytes: 0, removedFiles: 0 });
  const files = await readdir(path.join(cacheDir, "sha256"));
  const dry = await pruneCache(cacheDir, { dryRun: true });
  assert.equal(dry.removedFiles, files.length);
  assert.equal(dry.freedBytes, "layer bytes".length + "shared".length);
  assert.deepEqual(await pruneCache(cacheDir), dry);
  assert.deepEqual(await readdir(path.join(cacheDir, "sha256")), []);
});
