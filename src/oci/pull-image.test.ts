// Integration: images built by umoci and skopeo (and hand-made hostile layers) pushed to a real
// docker-registry on 127.0.0.1, pulled with pullImage, compared file by file.
import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { silentReporter } from "../api/progress.js";
import { isBangerError } from "../errors/index.js";
import { run } from "../host/index.js";
import { blobPath } from "./blob-cache.js";
import { pruneCache, pullImage, type PulledImage } from "./index.js";
import { MEDIA } from "./manifest.js";
import {
  freePort,
  pushBlob,
  pushManifest,
  pushRawImage,
  sha256,
  startRegistry,
  storedBlobPath,
  storedManifest,
  type Stored,
  type TestRegistry,
} from "./testing-registry.js";
import {
  changeTree,
  describeTree,
  fillBaseTree,
  makeTar,
  skopeoPush,
  umoci,
} from "./testing-tree.js";

let reg: TestRegistry | undefined;
let work = "";
let expectedRoot = "";
let host = "";
const SETUP_TIMEOUT_MS = 60_000;

before(
  async () => {
    work = await mkdtemp(path.join(tmpdir(), "oci-pull-"));
    reg = await startRegistry();
    host = reg.host;
    const layout = path.join(work, "layout");
    const bundle = path.join(work, "bundle");
    await umoci("init", "--layout", layout);
    await umoci("new", "--image", `${layout}:base`);
    await umoci("unpack", "--image", `${layout}:base`, bundle);
    expectedRoot = path.join(bundle, "rootfs");
    await fillBaseTree(expectedRoot);
    await umoci("repack", "--refresh-bundle", "--image", `${layout}:base`, bundle);
    await changeTree(expectedRoot);
    await umoci("repack", "--refresh-bundle", "--image", `${layout}:base`, bundle);
    await umoci(
      "config",
      "--image",
      `${layout}:base`,
      "--config.env=GREETING=hi",
      "--config.cmd=/bin/sh",
    );
    await umoci("config", "--image", `${layout}:base`, "--architecture=arm64", "--tag=arm");

    await skopeoPush(layout, "base", `${host}/test/multi:v1`);
    await skopeoPush(layout, "arm", `${host}/test/multi:arm`);
    // skopeo keeps a compressed layer as it is and would swap in a gzip blob the registry
    // already has, so zstd goes via an uncompressed copy in layouts of their own.
    const skopeoCopy = (...args: string[]): Promise<unknown> =>
      run("skopeo", ["copy", "--quiet", ...args]);
    await skopeoCopy(
      "--dest-decompress",
      "--dest-oci-accept-uncompressed-layers",
      `oci:${layout}:base`,
      `oci:${work}/plain:plain`,
    );
    await skopeoCopy(
      "--dest-compress",
      "--dest-compress-format=zstd",
      `oci:${work}/plain:plain`,
      `oci:${work}/zstd:zstd`,
    );
    await skopeoPush(`${work}/zstd`, "zstd", `${host}/test/zstd:v1`, ["--preserve-digests"]);
    await pushIndex("index", ["v1", "arm"]);
    await pushIndex("armonly", ["arm"]);
  },
  { timeout: SETUP_TIMEOUT_MS },
);

after(async () => {
  await reg?.close();
  if (work !== "") await rm(work, { recursive: true, force: true });
});

async function pushIndex(tag: string, from: string[]): Promise<string> {
  const manifests = [];
  for (const t of from) {
    const m = await storedManifest(host, "test/multi", t);
    const architecture = t === "arm" ? "arm64" : "amd64";
    manifests.push({
      mediaType: MEDIA.ociManifest,
      digest: m.digest,
      size: m.size,
      platform: { os: "linux", architecture },
    });
  }
  const index = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests };
  return pushManifest(host, "test/multi", tag, MEDIA.ociIndex, index);
}

let caseCount = 0;
async function pull(ref: string, cacheDir?: string): Promise<PulledImage> {
  caseCount++;
  return pullImage({
    ref: `${host}/${ref}`,
    cacheDir: cacheDir ?? path.join(work, `cache-${caseCount}`),
    stagingRoot: path.join(work, `staging-${caseCount}`),
    report: silentReporter,
    dockerConfigPath: path.join(work, "no-docker-config.json"),
  });
}

async function assertSameTree(actualRoot: string, wantRoot: string): Promise<void> {
  const [actual, want] = await Promise.all([describeTree(actualRoot), describeTree(wantRoot)]);
  assert.deepEqual(Object.fromEntries(actual), Object.fromEntries(want));
}

test("a two-layer image flattens to the tree umoci packed, owners and modes included", async () => {
  const image = await pull("test/multi:v1");
  await assertSameTree(image.rootDir, expectedRoot);
  assert.equal(image.layers.length, 2);
  assert.equal(image.digest, image.manifestDigest);
  assert.deepEqual(image.config.cmd, ["/bin/sh"]);
  assert.ok(image.config.env.includes("GREETING=hi"));
  assert.equal(image.ref, `${host}/test/multi:v1`);
});

test("a multi-arch index resolves to its linux/amd64 image", async () => {
  const v1 = await storedManifest(host, "test/multi", "v1");
  const image = await pull("test/multi:index");
  assert.equal(image.manifestDigest, v1.digest);
  assert.notEqual(image.digest, v1.digest);
  await assertSameTree(image.rootDir, expectedRoot);

  const byDigest = await pull(`test/multi@${image.digest}`);
  assert.equal(byDigest.manifestDigest, v1.digest);
});

test("an index without linux/amd64 and an arm64 image are refused by platform", async () => {
  await assert.rejects(
    pull("test/multi:armonly"),
    (err) => isBangerError(err, "IMAGE_UNSUPPORTED") && /linux\/arm64/.test(err.message),
  );
  await assert.rejects(
    pull("test/multi:arm"),
    (err) => isBangerError(err, "IMAGE_UNSUPPORTED") && /"arm64"/.test(err.message),
  );
});

test("zstd layers pushed by skopeo unpack through the host's zstd", async () => {
  const image = await pull("test/zstd:v1");
  assert.ok(
    image.layers.every((l) => l.mediaType.endsWith("+zstd")),
    JSON.stringify(image.layers),
  );
  await assertSameTree(image.rootDir, expectedRoot);
});

test("an opaque directory hides the lower layers' entries but keeps its own", async () => {
  const base = await storedManifest(host, "test/multi", "v1");
  const m = base.body as { config: Stored; layers: object[] };
  const cfg = (await (
    await fetch(`http://${host}/v2/test/multi/blobs/${m.config.digest}`)
  ).json()) as {
    rootfs: { diff_ids: string[] };
  };
  const plain = await makeTar([
    { name: "var/lib/app/", type: "directory", mode: 0o755 },
    { name: "var/lib/app/.wh..wh..opq" },
    { name: "var/lib/app/fresh", mode: 0o644, body: "fresh\n" },
    { name: "bin/.wh.ls" },
  ]);
  const gz = gzipSync(plain);
  cfg.rootfs.diff_ids.push(sha256(plain));
  const cfgBody = Buffer.from(JSON.stringify(cfg));
  const layer = {
    mediaType: `${MEDIA.ociLayer}+gzip`,
    digest: await pushBlob(host, "test/multi", gz),
    size: gz.length,
  };
  const config = {
    ...m.config,
    digest: await pushBlob(host, "test/multi", cfgBody),
    size: cfgBody.length,
  };
  await pushManifest(host, "test/multi", "opaque", MEDIA.ociManifest, {
    ...m,
    config,
    layers: [...m.layers, layer],
  });

  const want = path.join(work, "want-opaque");
  await run("cp", ["-a", expectedRoot, want]);
  await rm(path.join(want, "var/lib/app"), { recursive: true });
  await mkdir(path.join(want, "var/lib/app"), { mode: 0o755 });
  await writeFile(path.join(want, "var/lib/app/fresh"), "fresh\n", { mode: 0o644 });
  await rm(path.join(want, "bin/ls"));
  const image = await pull("test/multi:opaque");
  await assertSameTree(image.rootDir, want);
});

test("hostile layers write nothing outside the staging tree", async () => {
  const outside = await mkdtemp(path.join(tmpdir(), "oci-outside-"));
  const escapeName = path.basename(outside);
  try {
    await writeFile(path.join(outside, "secret"), "secret\n");
    await pushRawImage(host, "evil/traversal", "v1", [
      [
        { name: "ok", body: "ok" },
        { name: `../../../../../../../../../tmp/${escapeName}/pwned`, body: "pwn" },
      ],
    ]);
    await pushRawImage(host, "evil/hardlink", "v1", [
      [{ name: "hl", type: "link", linkname: `../../../..${outside}/secret` }],
    ]);
    await pushRawImage(host, "evil/link-via-symlink", "v1", [
      [{ name: "esc", type: "symlink", linkname: outside }],
      [{ name: "hl", type: "link", linkname: "esc/secret" }],
    ]);
    await pushRawImage(
      host,
      "evil/symlink",
      "v1",
      [
        [
          { name: "esc", type: "symlink", linkname: outside },
          { name: "up", type: "symlink", linkname: "../../../../../../../../.." },
        ],
        [
          { name: "esc/pwned", body: "pwn" },
          { name: `up${outside}/pwned2`, body: "pwn" },
          { name: "esc", body: "the link is replaced, not followed" },
        ],
      ],
      false,
    );

    for (const repo of ["evil/traversal", "evil/hardlink", "evil/link-via-symlink"]) {
      await assert.rejects(
        pull(`${repo}:v1`),
        (err) =>
          (isBangerError(err, "IMAGE_LAYER_UNSAFE") && err.message.includes("layer 1")) ||
          (isBangerError(err, "IMAGE_LAYER_UNSAFE") && err.message.includes("layer 2")),
        repo,
      );
      assert.equal(
        (await readdir(path.join(work, `staging-${caseCount}`))).length,
        0,
        `${repo} left rootfs`,
      );
    }
    const image = await pull("evil/symlink:v1");
    assert.deepEqual(await readdir(outside), ["secret"]);
    assert.equal((await stat(path.join(outside, "secret"))).nlink, 1);
    assert.ok((await lstat(path.join(image.rootDir, outside, "pwned"))).isFile());
    assert.ok((await lstat(path.join(image.rootDir, "esc"))).isFile());
  } finally {
    await rm(outside, { recursive: true, force: true });
  }
});

test("a corrupt registry blob fails with IMAGE_DIGEST_MISMATCH, the cache clean", async () => {
  const [layer] = await pushRawImage(host, "test/corrupt", "v1", [
    [{ name: "f", body: `unique ${Date.now()}` }],
  ]);
  assert.ok(layer !== undefined && reg !== undefined);
  const stored = storedBlobPath(reg, layer.digest);
  const size = (await stat(stored)).size;
  await writeFile(stored, Buffer.alloc(size, 0x41));
  const cacheDir = path.join(work, "cache-corrupt");
  await assert.rejects(
    pull("test/corrupt:v1", cacheDir),
    (err) => isBangerError(err, "IMAGE_DIGEST_MISMATCH") && err.message.includes(layer.digest),
  );
  await assert.rejects(stat(blobPath(cacheDir, layer.digest)), { code: "ENOENT" });
  assert.deepEqual(await readdir(path.join(cacheDir, "tmp")), []);
});

test("a damaged cached blob is fetched again, and pruneCache frees the cache", async () => {
  const cacheDir = path.join(work, "cache-shared");
  const first = await pull("test/multi:v1", cacheDir);
  const layer = first.layers[0];
  assert.ok(layer !== undefined);
  await writeFile(blobPath(cacheDir, layer.digest), "damaged");
  const [a, b] = await Promise.all([
    pull("test/multi:v1", cacheDir),
    pull("test/multi:v1", cacheDir),
  ]);
  await assertSameTree(a.rootDir, expectedRoot);
  await assertSameTree(b.rootDir, expectedRoot);
  assert.equal((await stat(blobPath(cacheDir, layer.digest))).size, layer.sizeBytes);

  const dry = await pruneCache(cacheDir, { dryRun: true });
  assert.ok(dry.freedBytes > layer.sizeBytes && dry.removedFiles === 3, JSON.stringify(dry));
  assert.deepEqual(await pruneCache(cacheDir), dry);
  assert.deepEqual(await pruneCache(cacheDir), { freedBytes: 0, removedFiles: 0 });
});

test("unknown tags and repositories are named in the error", async () => {
  await assert.rejects(
    pull("test/multi:nope"),
    (err) =>
      isBangerError(err, "REGISTRY_NOT_FOUND") &&
      err.message.includes('"nope"') &&
      err.message.includes('"test/multi"'),
  );
  await assert.rejects(
    pull("test/absent:v1"),
    (err) =>
      isBangerError(err, "REGISTRY_NOT_FOUND") &&
      err.message.includes('"test/absent"') &&
      err.message.includes('"v1"'),
  );
});

test("a refused connection and a TLS failure name the registry within 10 s", async () => {
  const port = await freePort();
  const started = Date.now();
  await assert.rejects(
    pullImage({
      ref: `127.0.0.1:${port}/x:y`,
      cacheDir: path.join(work, "c"),
      stagingRoot: path.join(work, "s"),
      report: silentReporter,
    }),
    (err) =>
      isBangerError(err, "REGISTRY_UNREACHABLE") &&
      err.message.includes(`"127.0.0.1:${port}"`) &&
      /refused/.test(err.message),
  );
  // Linux routes 0.0.0.0 to the local host, and banger assumes plain HTTP only for loopback
  // names: this speaks TLS to the plain-HTTP registry.
  const tlsHost = host.replace("127.0.0.1", "0.0.0.0");
  await assert.rejects(
    pullImage({
      ref: `${tlsHost}/test/multi:v1`,
      cacheDir: path.join(work, "c"),
      stagingRoot: path.join(work, "s"),
      report: silentReporter,
    }),
    (err) =>
      isBangerError(err, "REGISTRY_UNREACHABLE") &&
      err.message.includes(`"${tlsHost}"`) &&
      /TLS/.test(err.message) &&
      /insecure/.test(err.hint ?? ""),
  );
  assert.ok(Date.now() - started < 10_000);
});

test("an abort while unpacking fails with INTERRUPTED and removes the half-made root", async () => {
  const controller = new AbortController();
  const stagingRoot = path.join(work, "staging-abort");
  await assert.rejects(
    pullImage({
      ref: `${host}/test/multi:v1`,
      cacheDir: path.join(work, "cache-abort"),
      stagingRoot,
      signal: controller.signal,
      dockerConfigPath: path.join(work, "no-docker-config.json"),
      report: (e) => {
        if (e.type === "step" && e.step === "oci-unpack" && e.status === "start") {
          controller.abort();
        }
      },
    }),
    (err) => isBangerError(err, "INTERRUPTED"),
  );
  assert.deepEqual(await readdir(stagingRoot), []);
});

test("a disk that fills up mid-pull leaves no half-made root, and the next pull works", async () => {
  const stagingRoot = path.join(work, "staging-full");
  const cacheDir = path.join(work, "cache-full");
  await mkdir(stagingRoot);
  // A filesystem far too small for the image, so unpacking runs out of space.
  await run("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", stagingRoot]);
  try {
    await assert.rejects(
      pullImage({
        ref: `${host}/test/multi:v1`,
        cacheDir,
        stagingRoot,
        report: silentReporter,
        dockerConfigPath: path.join(work, "no-docker-config.json"),
      }),
      (err) => isBangerError(err) && /space|ENOSPC/i.test(`${err.message} ${String(err.cause)}`),
    );
    assert.deepEqual(await readdir(stagingRoot), [], "the half-made root is removed");
  } finally {
    await run("umount", [stagingRoot]);
  }
  const image = await pullImage({
    ref: `${host}/test/multi:v1`,
    cacheDir,
    stagingRoot,
    report: silentReporter,
    dockerConfigPath: path.join(work, "no-docker-config.json"),
  });
  assert.ok((await readdir(image.rootDir)).length > 0);
});
