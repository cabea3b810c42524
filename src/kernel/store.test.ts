import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { silentReporter } from "../api/progress.js";
import { isBangerError } from "../errors/index.js";
import { resolvePaths, type Paths } from "../paths/index.js";
import { ensureKernel, getKernel, listKernels } from "./index.js";
import { publishKernel, writeManifest, type KernelManifest } from "./store.js";

async function tempPaths(t: TestContext): Promise<Paths> {
  const dir = await mkdtemp(path.join(tmpdir(), "banger-kstore-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return resolvePaths({ BANGER_STATE_DIR: dir });
}

function manifest(name: string): KernelManifest {
  return {
    schema: 1,
    name,
    version: "6.1.0-50-cloud-amd64",
    source: {
      suite: "bookworm",
      package: "linux-image-6.1.0-50-cloud-amd64",
      debVersion: "6.1.176-1",
      sha256: "e".repeat(64),
    },
    createdAt: "2026-01-01T00:00:00.000Z",
  };
}

async function stageKernel(paths: Paths, name: string): Promise<void> {
  const staged = path.join(paths.stagingDir, name);
  await mkdir(staged, { recursive: true });
  await mkdir(paths.kernelsDir, { recursive: true });
  await writeManifest(staged, manifest(name));
  await publishKernel(staged, paths, name);
}

test("an empty store lists nothing and names the pull command for a missing kernel", async (t) => {
  const paths = await tempPaths(t);
  assert.deepEqual(await listKernels(paths), []);
  await assert.rejects(
    getKernel(paths, "debian-bookworm-cloud"),
    (err) => isBangerError(err, "KERNEL_NOT_FOUND") && /banger kernel pull/.test(err.hint ?? ""),
  );
  await assert.rejects(getKernel(paths, "../etc"), (err) => isBangerError(err, "INVALID_NAME"));
});

test("published kernels read back with absolute paths; unpublished dirs are not kernels", async (t) => {
  const paths = await tempPaths(t);
  await stageKernel(paths, "debian-bookworm-cloud");
  await mkdir(path.join(paths.kernelsDir, "half-built"));
  const k = await getKernel(paths, "debian-bookworm-cloud");
  assert.equal(k.kernelPath, path.join(paths.kernelsDir, "debian-bookworm-cloud", "vmlinuz"));
  assert.equal(k.initrdPath, path.join(paths.kernelsDir, "debian-bookworm-cloud", "initrd.img"));
  assert.equal(k.source.debVersion, "6.1.176-1");
  assert.deepEqual(
    (await listKernels(paths)).map((x) => x.name),
    ["debian-bookworm-cloud"],
  );
});

test("a second publish of the same name keeps the first and drops the staged copy", async (t) => {
  const paths = await tempPaths(t);
  await stageKernel(paths, "k1");
  await stageKernel(paths, "k1");
  assert.deepEqual(await readdir(paths.stagingDir), []);
  assert.equal((await getKernel(paths, "k1")).name, "k1");
});

test("a broken manifest is reported, not skipped", async (t) => {
  const paths = await tempPaths(t);
  await mkdir(path.join(paths.kernelsDir, "k2"), { recursive: true });
  await writeFile(path.join(paths.kernelsDir, "k2", "manifest.json"), "{not json");
  await assert.rejects(
    listKernels(paths),
    (err) => isBangerError(err, "KERNEL_NOT_FOUND") && /bad manifest/.test(err.message),
  );
});

test("ensureKernel returns a stored kernel without touching the network", async (t) => {
  const paths = await tempPaths(t);
  await stageKernel(paths, "debian-bookworm-cloud");
  const k = await ensureKernel({
    paths,
    mirror: "http://127.0.0.1:9/debian",
    report: silentReporter,
  });
  assert.equal(k.version, "6.1.0-50-cloud-amd64");
});

test("ensureKernel refuses unknown names and cleans staging after a failed fetch", async (t) => {
  const paths = await tempPaths(t);
  const opts = { paths, mirror: "http://127.0.0.1:9/debian", report: silentReporter };
  await assert.rejects(ensureKernel({ ...opts, name: "nope" }), (err) =>
    isBangerError(err, "KERNEL_NOT_FOUND"),
  );
  await assert.rejects(
    ensureKernel(opts),
    (err) =>
      isBangerError(err, "KERNEL_FETCH_FAILED") &&
      err.message.includes("127.0.0.1:9/debian/dists/bookworm/InRelease"),
  );
  assert.deepEqual(await readdir(paths.stagingDir), []);
  await assert.rejects(ensureKernel({ ...opts, mirror: "ftp://x" }), (err) =>
    isBangerError(err, "INVALID_ARGUMENT"),
  );
});
