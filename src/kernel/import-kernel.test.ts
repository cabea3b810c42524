import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { silentReporter } from "../api/progress.js";
import { resolvePaths, type Paths } from "../paths/index.js";
import { bzImageVersion } from "./bzimage.js";
import { getKernel, importKernel, removeKernel } from "./index.js";

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "banger-kimport-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The smallest thing with a bzImage setup header and a version string. */
function fakeBzImage(version: string): Buffer {
  const image = Buffer.alloc(0x1000);
  image.write("HdrS", 0x202, "latin1");
  image.writeUInt16LE(0x600 - 0x200, 0x20e);
  image.write(`${version} (builder@host) #1 SMP\0`, 0x600, "latin1");
  return image;
}

function code(expected: string): (err: unknown) => boolean {
  return (err) => (err as { code?: string }).code === expected;
}

test("bzImageVersion reads the release from the setup header", () => {
  assert.equal(bzImageVersion(fakeBzImage("6.1.0-18-cloud-amd64"), "k"), "6.1.0-18-cloud-amd64");
  assert.throws(
    () => bzImageVersion(Buffer.alloc(0x1000), "/x/k"),
    /"\/x\/k": it is not a bzImage/,
  );
  const bad = fakeBzImage("x");
  bad.writeUInt16LE(0xffff, 0x20e);
  assert.throws(() => bzImageVersion(bad, "k"), /out of range/);
});

async function importFake(t: TestContext, name: string): Promise<{ paths: Paths; dir: string }> {
  const dir = await tempDir(t);
  const paths = resolvePaths({ BANGER_STATE_DIR: path.join(dir, "state") });
  await writeFile(path.join(dir, "vmlinuz"), fakeBzImage("6.9.0-test"));
  await writeFile(path.join(dir, "initrd"), "initrd bytes");
  await importKernel({
    paths,
    name,
    kernelPath: path.join(dir, "vmlinuz"),
    initrdPath: path.join(dir, "initrd"),
    report: silentReporter,
  });
  return { paths, dir };
}

test("importKernel with --initrd stores both files and the release", async (t) => {
  const { paths, dir } = await importFake(t, "mine");
  const k = await getKernel(paths, "mine");
  assert.equal(k.version, "6.9.0-test");
  assert.equal(k.source.suite, "imported");
  assert.equal(await readFile(k.initrdPath, "utf8"), "initrd bytes");
  assert.deepEqual(await readFile(k.kernelPath), await readFile(path.join(dir, "vmlinuz")));

  const again = importKernel({
    paths,
    name: "mine",
    kernelPath: path.join(dir, "vmlinuz"),
    initrdPath: path.join(dir, "initrd"),
    report: silentReporter,
  });
  await assert.rejects(again, code("KERNEL_EXISTS"));
});

test("importKernel needs exactly one of initrd and modules, and an existing kernel", async (t) => {
  const dir = await tempDir(t);
  const paths = resolvePaths({ BANGER_STATE_DIR: dir });
  const base = { paths, name: "k", report: silentReporter };
  await assert.rejects(importKernel({ ...base, kernelPath: "/nope" }), code("USAGE"));
  await assert.rejects(
    importKernel({ ...base, kernelPath: "/nope/vmlinuz", initrdPath: "/nope/initrd" }),
    /cannot import kernel "\/nope\/vmlinuz": it does not exist/,
  );
});

test("removeKernel refuses while used, naming the users, then removes", async (t) => {
  const { paths } = await importFake(t, "mine");
  await assert.rejects(
    removeKernel(paths, "mine", ['image "deb"', 'VM "web-1"']),
    /cannot remove kernel "mine": used by image "deb", VM "web-1"/,
  );
  await getKernel(paths, "mine");
  await removeKernel(paths, "mine", []);
  await assert.rejects(getKernel(paths, "mine"), code("KERNEL_NOT_FOUND"));
  await assert.rejects(removeKernel(paths, "mine", []), code("KERNEL_NOT_FOUND"));
});
