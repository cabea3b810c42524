import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { isBangerError } from "../errors/index.js";
import { download } from "./download.js";

const BODY = Buffer.alloc(3 << 20, 7);
const BODY_SHA = createHash("sha256").update(BODY).digest("hex");

// A loopback server: /ok serves BODY, /stall sends headers and then nothing.
async function serve(t: TestContext): Promise<string> {
  const server: Server = createServer((req, res) => {
    if (req.url === "/ok") return res.end(BODY);
    if (req.url === "/stall") return res.writeHead(200, { "content-length": "100" }).write("x");
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => server.close(resolve).closeAllConnections()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function tmp(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "banger-dl-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, "file");
}

test("streams to disk, returns the hash and reports byte progress", async (t) => {
  const base = await serve(t);
  const destPath = await tmp(t);
  const seen: Array<[number, number | undefined]> = [];
  const sha = await download({
    url: `${base}/ok`,
    destPath,
    expectSha256: BODY_SHA,
    onProgress: (current, total) => seen.push([current, total]),
  });
  assert.equal(sha, BODY_SHA);
  assert.deepEqual(await readFile(destPath), BODY);
  assert.deepEqual(seen.at(-1), [BODY.length, BODY.length]);
  assert.ok(seen.length >= 3);
});

test("a wrong checksum is refused and leaves no file", async (t) => {
  const base = await serve(t);
  const destPath = await tmp(t);
  await assert.rejects(
    download({ url: `${base}/ok`, destPath, expectSha256: "0".repeat(64) }),
    (err) => isBangerError(err, "KERNEL_CHECKSUM_MISMATCH") && err.message.includes(`${base}/ok`),
  );
  await assert.rejects(access(destPath), { code: "ENOENT" });
});

test("a body longer than the index says is refused", async (t) => {
  const base = await serve(t);
  await assert.rejects(
    download({ url: `${base}/ok`, destPath: await tmp(t), maxBytes: 1000 }),
    (err) => isBangerError(err, "KERNEL_CHECKSUM_MISMATCH") && /larger than/.test(err.message),
  );
});

test("HTTP errors and refused connections name the URL", async (t) => {
  const base = await serve(t);
  await assert.rejects(
    download({ url: `${base}/missing`, destPath: await tmp(t) }),
    (err) =>
      isBangerError(err, "KERNEL_FETCH_FAILED") && /"http:.*\/missing": HTTP 404/.test(err.message),
  );
  await assert.rejects(
    download({ url: "http://127.0.0.1:9/x", destPath: await tmp(t) }),
    (err) => isBangerError(err, "KERNEL_FETCH_FAILED") && err.message.includes("127.0.0.1:9/x"),
  );
});

test("a stalled transfer fails within the idle timeout", async (t) => {
  const base = await serve(t);
  const started = Date.now();
  await assert.rejects(
    download({ url: `${base}/stall`, destPath: await tmp(t), idleTimeoutMs: 300 }),
    (err) => isBangerError(err, "KERNEL_FETCH_FAILED") && /no data for 300 ms/.test(err.message),
  );
  assert.ok(Date.now() - started < 5000);
});

test("an aborted download is INTERRUPTED", async (t) => {
  const base = await serve(t);
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 100);
  await assert.rejects(
    download({ url: `${base}/stall`, destPath: await tmp(t), signal: ctl.signal }),
    (err) => isBangerError(err, "INTERRUPTED"),
  );
});
