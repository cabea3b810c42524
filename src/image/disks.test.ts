import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { isBangerError } from "../errors/index.js";
import { run } from "../host/index.js";
import { createRootOverlay } from "./root-overlay.js";
import { createWorkDisk, parseInodeStat } from "./work-disk.js";

const MIB = 1024 * 1024;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "banger-disk-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function debugfs(disk: string, request: string): Promise<string> {
  return (await run("debugfs", ["-R", request, disk])).stdout;
}

test("createWorkDisk makes a sparse ext4 with a private root dir and the skeleton", async (t) => {
  const dir = await tempDir(t);
  const skel = path.join(dir, "skel");
  await mkdir(path.join(skel, ".ssh"), { recursive: true, mode: 0o755 });
  await writeFile(path.join(skel, ".bashrc"), "PS1='vm# '\n", { mode: 0o640 });
  const disk = path.join(dir, "work.ext4");

  await createWorkDisk({ path: disk, sizeBytes: 64 * MIB, skelDir: skel });

  const st = await stat(disk);
  assert.equal(st.size, 64 * MIB);
  assert.ok(st.blocks * 512 < 16 * MIB, `allocated ${st.blocks * 512} bytes`);
  const header = (await run("dumpe2fs", ["-h", disk])).stdout;
  assert.match(header, /^Filesystem volume name:\s+banger-work$/m);
  assert.match(header, /^Filesystem features:.*\bhas_journal\b/m);
  assert.deepEqual(parseInodeStat(await debugfs(disk, "stat /")), { mode: 0o700, uid: 0, gid: 0 });
  assert.equal(parseInodeStat(await debugfs(disk, "stat /.bashrc"))?.mode, 0o640);
  assert.equal(await debugfs(disk, "cat /.bashrc"), "PS1='vm# '\n");
});

test("a new VM's 1 GiB work disk takes well under 10 MiB of real space", async (t) => {
  const disk = path.join(await tempDir(t), "work.ext4");
  await createWorkDisk({ path: disk, sizeBytes: 1024 * MIB });
  const st = await stat(disk);
  assert.ok(st.blocks * 512 < 2 * MIB, `allocated ${st.blocks * 512} bytes`);
});

test("createWorkDisk without a skeleton still makes root 0700", async (t) => {
  const disk = path.join(await tempDir(t), "work.ext4");
  await createWorkDisk({ path: disk, sizeBytes: 32 * MIB });
  assert.deepEqual(parseInodeStat(await debugfs(disk, "stat /")), { mode: 0o700, uid: 0, gid: 0 });
});

test("createWorkDisk never overwrites an existing disk", async (t) => {
  const disk = path.join(await tempDir(t), "work.ext4");
  await writeFile(disk, "precious");
  await assert.rejects(createWorkDisk({ path: disk, sizeBytes: 32 * MIB }), (err) =>
    isBangerError(err, "DISK_SETUP_FAILED"),
  );
  assert.equal(await readFile(disk, "utf8"), "precious");
});

test("createWorkDisk removes its half-made file when mkfs fails", async (t) => {
  const dir = await tempDir(t);
  const disk = path.join(dir, "work.ext4");
  const missingSkel = path.join(dir, "no-such-skel");
  await assert.rejects(
    createWorkDisk({ path: disk, sizeBytes: 32 * MIB, skelDir: missingSkel }),
    (err) => isBangerError(err, "DISK_SETUP_FAILED") && err.message.includes(disk),
  );
  await assert.rejects(stat(disk), { code: "ENOENT" });
});

test("createWorkDisk refuses sizes that are not whole or too small", async (t) => {
  const disk = path.join(await tempDir(t), "work.ext4");
  for (const size of [0, MIB, 16 * MIB + 0.5, Number.NaN]) {
    await assert.rejects(createWorkDisk({ path: disk, sizeBytes: size }), (err) =>
      isBangerError(err, "INVALID_SIZE"),
    );
  }
  await assert.rejects(stat(disk), { code: "ENOENT" });
});

test("parseInodeStat reads debugfs's stat output", () => {
  const text =
    "Inode: 2   Type: directory    Mode:  0700   Flags: 0x80000\n" +
    "User:     0   Group:   100   Project:     0   Size: 1024\n";
  assert.deepEqual(parseInodeStat(text), { mode: 0o700, uid: 0, gid: 100 });
  assert.equal(parseInodeStat("garbage"), undefined);
});

test("createRootOverlay makes a small qcow2 backed by the raw base", async (t) => {
  const dir = await tempDir(t);
  const base = path.join(dir, "rootfs.ext4");
  await truncate(base, 0).catch(() => undefined);
  await writeFile(base, "");
  await truncate(base, 1024 * MIB);
  const overlay = path.join(dir, "vm", "root.qcow2");
  await mkdir(path.dirname(overlay));

  await createRootOverlay({ baseRawPath: base, overlayPath: overlay });

  const info = JSON.parse((await run("qemu-img", ["info", "--output=json", overlay])).stdout) as {
    format: string;
    "virtual-size": number;
    "backing-filename": string;
    "backing-filename-format": string;
  };
  assert.equal(info.format, "qcow2");
  assert.equal(info["virtual-size"], 1024 * MIB);
  assert.equal(info["backing-filename"], base);
  assert.equal(info["backing-filename-format"], "raw");
  assert.ok((await stat(overlay)).size < MIB, "a fresh overlay is tiny");
});

test("createRootOverlay over a missing base fails and leaves no overlay", async (t) => {
  const dir = await tempDir(t);
  const overlay = path.join(dir, "root.qcow2");
  await assert.rejects(
    createRootOverlay({ baseRawPath: path.join(dir, "missing.ext4"), overlayPath: overlay }),
    (err) => isBangerError(err, "DISK_SETUP_FAILED") && /qemu-img/.test(err.message),
  );
  await assert.rejects(stat(overlay), { code: "ENOENT" });
});

test("createRootOverlay never overwrites an existing overlay", async (t) => {
  const dir = await tempDir(t);
  const overlay = path.join(dir, "root.qcow2");
  await writeFile(overlay, "live data");
  await assert.rejects(createRootOverlay({ baseRawPath: overlay, overlayPath: overlay }), (err) =>
    isBangerError(err, "DISK_SETUP_FAILED"),
  );
  assert.equal(await readFile(overlay, "utf8"), "live data");
});
