import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { ProgressEvent } from "../api/progress.js";
import { run } from "../host/index.js";
import { pushRawImage, startRegistry, type TestRegistry } from "../oci/testing-registry.js";
import type { TarEntry } from "../oci/testing-tree.js";
import { resolvePaths, type Paths } from "../paths/index.js";
import { getImage, pullImage } from "./index.js";

let reg: TestRegistry;
let dir: string;
let paths: Paths;

const dirs = (names: string[]): TarEntry[] => names.map((name) => ({ name, type: "directory" }));
const file = (name: string, body: string, mode = 0o644): TarEntry => ({ name, body, mode });

const WITH_SSHD: TarEntry[] = [
  ...dirs(["etc", "etc/ssh", "usr", "usr/lib", "usr/lib/systemd", "usr/sbin", "usr/bin", "root"]),
  file("etc/os-release", "ID=debian\n"),
  file("etc/shadow", "root:$y$secret:1::::::\n", 0o640),
  file("etc/ssh/ssh_host_ed25519_key", "baked-in key", 0o600),
  file("usr/lib/systemd/systemd", "", 0o755),
  file("usr/sbin/sshd", "", 0o755),
  file("usr/bin/passwd", "", 0o4755),
  file("root/.bashrc", "PS1=x\n"),
];
const NO_SSHD = WITH_SSHD.filter((e) => e.name !== "usr/sbin/sshd");

before(async () => {
  reg = await startRegistry();
  dir = await mkdtemp(path.join(tmpdir(), "banger-pull-"));
  paths = resolvePaths({ BANGER_STATE_DIR: dir });
  await pushRawImage(reg.host, "test/full", "v1", [WITH_SSHD]);
  await pushRawImage(reg.host, "test/bare", "v1", [NO_SSHD]);
});

after(async () => {
  await reg.close();
  await rm(dir, { recursive: true, force: true });
});

function recorder(): { events: ProgressEvent[]; report: (e: ProgressEvent) => void } {
  const events: ProgressEvent[] = [];
  return { events, report: (e) => events.push(e) };
}

/** `debugfs stat` of a path in an ext4 file, without mounting it. */
async function statInImage(rootfs: string, file: string): Promise<string> {
  const { stdout } = await run("debugfs", ["-R", `stat ${file}`, rootfs], { timeoutMs: 10_000 });
  return stdout;
}

async function stagingLeft(): Promise<string[]> {
  return readdir(paths.stagingDir).catch(() => []);
}

test("pullImage publishes an adjusted ext4 image with its digest and a summary", async () => {
  const { events, report } = recorder();
  const image = await pullImage({ paths, ref: `${reg.host}/test/full:v1`, name: "full", report });
  assert.match(image.source, new RegExp(`^oci:${reg.host}/test/full:v1@sha256:[0-9a-f]{64}$`));
  assert.equal(image.agent, true);
  assert.equal(image.needsNat, undefined);
  assert.equal(image.sizeBytes, 1024 * 1024 * 1024);

  assert.match(await statInImage(image.rootfsPath, "/usr/bin/passwd"), /Mode:\s+04755/);
  assert.match(await statInImage(image.rootfsPath, "/usr/local/bin/banger-agent"), /Mode:\s+0755/);
  const key = await run("debugfs", ["-R", "stat /etc/ssh/ssh_host_ed25519_key", image.rootfsPath]);
  assert.match(key.stderr, /File not found/);
  assert.equal(await readFile(path.join(image.rootSkelDir ?? "", ".bashrc"), "utf8"), "PS1=x\n");

  const note = events.find((e) => e.type === "note" && e.message.startsWith("Pulled"));
  assert.match(note?.type === "note" ? note.message : "", /as image full: 1024 MiB ext4 in/);
  assert.ok(events.some((e) => e.type === "progress" && e.step === "oci-download"));
  assert.deepEqual(await stagingLeft(), []);
  assert.deepEqual(await getImage(paths, "full"), image);
});

test("a second pull of the same image downloads nothing; --size is honoured", async () => {
  const { events, report } = recorder();
  const ref = `${reg.host}/test/full:v1`;
  const image = await pullImage({ paths, ref, name: "full2", sizeBytes: 1536 * 2 ** 20, report });
  assert.equal(image.sizeBytes, 1536 * 2 ** 20);
  assert.ok(!events.some((e) => e.type === "progress" && e.step === "oci-download"));
});

test("an image without sshd gets a first-boot install and needsNat", async () => {
  const { events, report } = recorder();
  const image = await pullImage({ paths, ref: `${reg.host}/test/bare:v1`, report });
  assert.equal(image.name, "bare-v1");
  assert.equal(image.needsNat, true);
  assert.ok(events.some((e) => e.type === "note" && /no sshd.*needs --nat/.test(e.message)));
  assert.match(await statInImage(image.rootfsPath, "/usr/lib/banger/first-boot"), /Mode:\s+0755/);
});

test("pulling into a name again returns it when up to date, else IMAGE_EXISTS", async () => {
  const { events, report } = recorder();
  const ref = `${reg.host}/test/full:v1`;
  const before = await getImage(paths, "full");
  assert.deepEqual(await pullImage({ paths, ref, name: "full", report }), before);
  assert.ok(events.some((e) => e.type === "note" && /image full is up to date/.test(e.message)));
  assert.ok(!events.some((e) => e.type === "step"));

  const other = pullImage({ paths, ref: `${reg.host}/test/bare:v1`, name: "full", report });
  await assert.rejects(other, (err: Error & { code?: string }) => err.code === "IMAGE_EXISTS");
  assert.ok(!events.some((e) => e.type === "step"));
});

test("an unknown tag names repository and tag, and leaves no staging dir", async () => {
  const pull = pullImage({ paths, ref: `${reg.host}/test/full:nope`, report: () => {} });
  await assert.rejects(pull, (err: Error & { code?: string }) => {
    assert.equal(err.code, "REGISTRY_NOT_FOUND");
    assert.match(err.message, /test\/full/);
    assert.match(err.message, /nope/);
    return true;
  });
  assert.deepEqual(await stagingLeft(), []);
});

test("an aborted pull publishes nothing and removes its staging dir", async () => {
  const controller = new AbortController();
  const report = (e: ProgressEvent): void => {
    if (e.type === "step" && e.step === "image.configure" && e.status === "done") {
      controller.abort();
    }
  };
  const ref = `${reg.host}/test/full:v1`;
  const pull = pullImage({ paths, ref, name: "aborted", report, signal: controller.signal });
  await assert.rejects(pull);
  assert.deepEqual(await stagingLeft(), []);
  await assert.rejects(getImage(paths, "aborted"), /does not exist/);
});
