import assert from "node:assert/strict";
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { MIN_ROOTFS_BYTES, measureTreeBytes, rootfsSizeBytes } from "./tree-size.js";

const MIB = 1024 * 1024;

test("rootfsSizeBytes never goes below 1 GiB", () => {
  assert.equal(rootfsSizeBytes(0), MIN_ROOTFS_BYTES);
  assert.equal(rootfsSizeBytes(234 * MIB), 1024 * MIB);
  assert.equal(rootfsSizeBytes(682 * MIB), 1024 * MIB);
});

test("rootfsSizeBytes grows a large tree by half, rounded up to whole MiB", () => {
  assert.equal(rootfsSizeBytes(1000 * MIB), 1500 * MIB);
  assert.equal(rootfsSizeBytes(1000 * MIB + 1), 1501 * MIB);
  assert.equal(rootfsSizeBytes(2048 * MIB) % MIB, 0);
});

test("rootfsSizeBytes refuses nonsense", () => {
  assert.throws(() => rootfsSizeBytes(-1));
  assert.throws(() => rootfsSizeBytes(Number.NaN));
});

test("measureTreeBytes counts a hard-linked file once and does not follow symlinks", async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), "banger-size-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, "a/b"), { recursive: true });
  await writeFile(path.join(root, "a/b/big"), Buffer.alloc(3 * MIB, 1));
  const once = await measureTreeBytes(root);
  assert.ok(once >= 3 * MIB && once < 3 * MIB + 64 * 1024, `measured ${once}`);

  await link(path.join(root, "a/b/big"), path.join(root, "a/hard"));
  await symlink("/usr", path.join(root, "usr-link"));
  const after = await measureTreeBytes(root);
  assert.ok(after - once < 4096, `grew by ${after - once}`);
});
