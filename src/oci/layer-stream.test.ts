import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { isBangerError } from "../errors/index.js";
import { run } from "../host/index.js";
import { openLayer } from "./layer-stream.js";
import { sha256 } from "./testing-registry.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "oci-layer-"));
});
after(() => rm(dir, { recursive: true, force: true }));

const plain = Buffer.from("pretend this is a tar archive\n".repeat(100));

async function drain(file: string, diffId: string | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await openLayer(file, diffId)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test("plain, gzip and zstd blobs decode to the same checked stream", async () => {
  await writeFile(path.join(dir, "plain"), plain);
  await writeFile(path.join(dir, "gz"), gzipSync(plain));
  await run("zstd", ["-q", "-o", path.join(dir, "zst"), path.join(dir, "plain")]);
  for (const name of ["plain", "gz", "zst"]) {
    assert.deepEqual(await drain(path.join(dir, name), sha256(plain)), plain, name);
  }
});

test("a stream that does not match its diff_id fails with IMAGE_DIGEST_MISMATCH", async () => {
  await writeFile(path.join(dir, "gz2"), gzipSync(plain));
  await assert.rejects(
    drain(path.join(dir, "gz2"), sha256("other")),
    (err) => isBangerError(err, "IMAGE_DIGEST_MISMATCH") && err.message.includes(sha256("other")),
  );
});

test("a broken zstd blob fails with the command's error instead of hanging", async () => {
  await writeFile(path.join(dir, "bad.zst"), Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]));
  await assert.rejects(
    drain(path.join(dir, "bad.zst"), sha256(plain)),
    (err) => isBangerError(err, "SUBPROCESS_FAILED") && /zstd -dc/.test(err.message),
  );
});
