import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { isBangerError } from "../errors/index.js";
import { resolvePaths, type Paths } from "../paths/index.js";
import { getImage, listImages } from "./store.js";

async function tempPaths(t: TestContext): Promise<Paths> {
  const stateDir = await mkdtemp(path.join(tmpdir(), "banger-store-"));
  t.after(() => rm(stateDir, { recursive: true, force: true }));
  return resolvePaths({ BANGER_STATE_DIR: stateDir });
}

async function addImage(paths: Paths, name: string, manifest: unknown): Promise<string> {
  const dir = path.join(paths.imagesDir, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "rootfs.ext4"), Buffer.alloc(4096));
  const text = typeof manifest === "string" ? manifest : JSON.stringify(manifest);
  await writeFile(path.join(dir, "manifest.json"), text);
  return dir;
}

function manifest(name: string, extra: object = {}): object {
  return { formatVersion: 1, name, source: "test", createdAt: "2026-01-01T00:00:00Z", ...extra };
}

test("getImage returns what the manifest and the rootfs say", async (t) => {
  const paths = await tempPaths(t);
  const dir = await addImage(paths, "alpine", manifest("alpine", { kernel: "k1" }));
  assert.deepEqual(await getImage(paths, "alpine"), {
    name: "alpine",
    rootfsPath: path.join(dir, "rootfs.ext4"),
    rootSkelDir: path.join(dir, "root-skel"),
    sizeBytes: 4096,
    source: "test",
    kernel: "k1",
    agent: false,
    createdAt: "2026-01-01T00:00:00Z",
  });
});

test("getImage of a missing image is IMAGE_NOT_FOUND with the list hint", async (t) => {
  const paths = await tempPaths(t);
  await assert.rejects(getImage(paths, "nope"), (err) => {
    assert.ok(isBangerError(err, "IMAGE_NOT_FOUND"));
    assert.match(err.message, /image "nope" does not exist/);
    assert.match(err.hint ?? "", /banger image list/);
    return true;
  });
});

for (const [label, content, why] of [
  ["not JSON", "{oops", /not valid JSON/],
  ["missing fields", JSON.stringify({ formatVersion: 1, name: "bad" }), /unexpected content/],
  ["another name", JSON.stringify(manifest("other")), /names image "other"/],
] as const) {
  test(`getImage of a manifest with ${label} is an error naming the file`, async (t) => {
    const paths = await tempPaths(t);
    const dir = await addImage(paths, "bad", content);
    await assert.rejects(getImage(paths, "bad"), (err) => {
      assert.ok(isBangerError(err, "IMAGE_NOT_FOUND"));
      assert.ok(err.message.includes(path.join(dir, "manifest.json")), err.message);
      assert.match(err.message, why);
      return true;
    });
  });
}

test("getImage names a missing rootfs", async (t) => {
  const paths = await tempPaths(t);
  const dir = await addImage(paths, "hollow", manifest("hollow"));
  await rm(path.join(dir, "rootfs.ext4"));
  await assert.rejects(getImage(paths, "hollow"), /rootfs\.ext4.*missing/);
});

test("getImage refuses names that could leave the image store", async (t) => {
  const paths = await tempPaths(t);
  for (const name of ["../etc", "a/b", "", ".hidden", "UPPER"]) {
    await assert.rejects(getImage(paths, name), (err) => isBangerError(err, "INVALID_NAME"));
  }
});

test("listImages is empty when the store does not exist yet", async (t) => {
  assert.deepEqual(await listImages(await tempPaths(t)), []);
});

test("listImages sorts by name and leaves out broken directories", async (t) => {
  const paths = await tempPaths(t);
  await addImage(paths, "zeta", manifest("zeta"));
  await addImage(paths, "alpha", manifest("alpha"));
  await addImage(paths, "broken", "{");
  await addImage(paths, "mid-1", manifest("mid-1"));
  await mkdir(path.join(paths.imagesDir, "empty"));
  const names = (await listImages(paths)).map((i) => i.name);
  assert.deepEqual(names, ["alpha", "mid-1", "zeta"]);
});
