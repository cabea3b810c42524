import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { applyLayer } from "./apply-layer.js";
import { tarStream, type TarEntry } from "./testing-tree.js";

type TestEntry = TarEntry;

let work = "";
let root = "";
let outside = "";
before(async () => {
  work = await realpath(await mkdtemp(path.join(tmpdir(), "oci-apply-")));
});
after(() => rm(work, { recursive: true, force: true }));

async function freshRoot(): Promise<void> {
  const dir = await mkdtemp(path.join(work, "case-"));
  root = path.join(dir, "root");
  outside = path.join(dir, "outside");
  await mkdir(root);
  await mkdir(outside);
}

async function apply(entries: TestEntry[]): Promise<number> {
  return applyLayer({ rootDir: root, tar: await tarStream(entries) });
}

test("files keep owners, modes, setuid, hard links, symlinks and device nodes", async () => {
  await freshRoot();
  await apply([
    { name: "./", type: "directory", mode: 0o755 },
    { name: "bin/", type: "directory", mode: 0o755 },
    { name: "bin/su", mode: 0o4755, uid: 0, gid: 0, body: "su" },
    { name: "bin/su2", type: "link", linkname: "bin/su" },
    { name: "bin/sh", type: "symlink", linkname: "/bin/busybox" },
    { name: "home/u/f", mode: 0o640, uid: 1000, gid: 1001, body: "data" },
    { name: "dev/null", type: "character-device", mode: 0o666, devmajor: 1, devminor: 3 },
    { name: "dev/sda", type: "block-device", mode: 0o660, devmajor: 8, devminor: 0, gid: 6 },
    { name: "run/fifo", type: "fifo", mode: 0o620 },
  ]);
  const su = await lstat(path.join(root, "bin/su"));
  assert.equal(su.mode & 0o7777, 0o4755);
  assert.equal((await lstat(path.join(root, "bin/su2"))).ino, su.ino);
  assert.equal(await readlink(path.join(root, "bin/sh")), "/bin/busybox");
  const f = await lstat(path.join(root, "home/u/f"));
  assert.deepEqual([f.uid, f.gid, f.mode & 0o7777], [1000, 1001, 0o640]);
  assert.equal(await readFile(path.join(root, "home/u/f"), "utf8"), "data");
  const nul = await lstat(path.join(root, "dev/null"));
  assert.ok(nul.isCharacterDevice());
  assert.equal(nul.rdev, (1 << 8) | 3);
  const sda = await lstat(path.join(root, "dev/sda"));
  assert.ok(sda.isBlockDevice());
  assert.deepEqual([sda.gid, sda.mode & 0o7777], [6, 0o660]);
  assert.ok((await lstat(path.join(root, "run/fifo"))).isFIFO());
});

test("whiteouts delete lower entries and opaque dirs keep only this layer's", async () => {
  await freshRoot();
  await apply([
    { name: "a/keep", body: "1" },
    { name: "a/gone", body: "1" },
    { name: "o/old1", body: "1" },
    { name: "o/sub/old2", body: "1" },
  ]);
  await apply([
    { name: "a/.wh.gone" },
    { name: "a/.wh.never-was" },
    { name: "o/", type: "directory", mode: 0o755 },
    { name: "o/new", body: "2" },
    { name: "o/.wh..wh..opq" },
    { name: "o/later", body: "3" },
  ]);
  assert.deepEqual(await readdir(path.join(root, "a")), ["keep"]);
  assert.deepEqual((await readdir(path.join(root, "o"))).sort(), ["later", "new"]);
});

async function assertRefused(entries: TestEntry[], what: RegExp): Promise<void> {
  await assert.rejects(
    apply(entries),
    (err) => isBangerError(err, "IMAGE_LAYER_UNSAFE") && what.test(err.message),
  );
}

test("entries with .. and hard links that leave the tree are refused", async () => {
  await freshRoot();
  await assertRefused([{ name: "../outside/x", body: "pwn" }], /"\.\.\/outside\/x".*"\.\."/);
  await assertRefused([{ name: "a/../../outside/x", body: "pwn" }], /"\.\."/);
  await assertRefused([{ name: "h", type: "link", linkname: "../outside/f" }], /"\.\."/);
  await assertRefused([{ name: `${"n".repeat(300)}`, body: "x" }], /longer than 255/);
  assert.deepEqual(await readdir(outside), []);
});

test("absolute names and symlinks planted earlier stay inside the root", async () => {
  await freshRoot();
  const victim = path.join(outside, "victim");
  await apply([
    { name: "/abs/file", body: "abs" },
    { name: "esc", type: "symlink", linkname: outside },
    { name: "rel", type: "symlink", linkname: "../../../../../../../.." },
    { name: "v", type: "symlink", linkname: victim },
  ]);
  await apply([
    { name: "esc/pwn", body: "pwn" },
    { name: "rel/tmp/pwn2", body: "pwn" },
    { name: "v", body: "replaced the link, not its target" },
  ]);
  await assertRefused([{ name: "hl", type: "link", linkname: "esc/victim" }], /not a file/);

  assert.deepEqual(await readdir(outside), []);
  assert.equal(await readFile(path.join(root, "abs/file"), "utf8"), "abs");
  assert.equal(await readFile(path.join(root, outside, "pwn"), "utf8"), "pwn");
  assert.equal(await readFile(path.join(root, "tmp/pwn2"), "utf8"), "pwn");
  assert.ok((await lstat(path.join(root, "v"))).isFile());
});
