import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { startRegistry, type TestRegistry } from "../../src/oci/testing-registry.js";
import { banger, cleanup, ok, STATE_DIR, uniqueName } from "./harness.js";
import { dumpRootfs, pushLayers, statIn } from "./pull-fixture.js";

const DEFAULT_ROOTFS = path.join(STATE_DIR, "images/debian-bookworm/rootfs.ext4");
const image = uniqueName("pulled");
const vm = uniqueName("pullvm");
const kernel = uniqueName("kimp");
const noSystemd = uniqueName("nosd");
const noSystemdVm = uniqueName("nosdvm");
let reg: TestRegistry;
let work: string;
let ref: string;

before(async () => {
  // The default image exists once any earlier suite file ran; build it when run alone.
  await ok(["vm", "run", "--rm", "--", "true"], { timeoutMs: 600_000 });
  reg = await startRegistry();
  work = await mkdtemp(path.join(tmpdir(), "banger-e2e-pull-"));
  await dumpRootfs(DEFAULT_ROOTFS, path.join(work, "tree"));
  ref = `${reg.host}/e2e/debian:bookworm`;
  await pushLayers(reg.host, "e2e/debian", "bookworm", [{ dir: path.join(work, "tree"), at: "/" }]);
  // The same tree without systemd: pulled, it boots through banger's first-boot init.
  await rm(path.join(work, "tree/usr/lib/systemd/systemd"));
  await rm(path.join(work, "tree/usr/sbin/init"));
  await pushLayers(reg.host, "e2e/debian", "no-systemd", [
    { dir: path.join(work, "tree"), at: "/" },
  ]);
});

after(async () => {
  await cleanup(vm);
  await cleanup(noSystemdVm);
  for (const name of [image, `${image}-2`, noSystemd]) await banger(["image", "delete", name]);
  await banger(["kernel", "rm", kernel]);
  await reg?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

interface ImageJson {
  name: string;
  rootfsPath: string;
  source: string;
  agent: boolean;
}

test("image pull makes a bootable image from a registry", { timeout: 300_000 }, async () => {
  const r = await banger(["image", "pull", ref, "--name", image]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${image}\n`);
  assert.match(r.stderr, /Downloading 1 layers: done/);
  assert.match(r.stderr, new RegExp(`Pulled ${ref}@sha256:[0-9a-f]{64} as image ${image}: `));

  const shown = JSON.parse(await ok(["image", "show", image])) as ImageJson;
  assert.match(shown.source, new RegExp(`^oci:${ref}@sha256:`));
  assert.equal(shown.agent, true);

  const run = await banger(["vm", "run", "--image", image, "--rm", "--", "cat", "/etc/os-release"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^ID=debian$/m);
});

test("the pulled rootfs keeps owners, modes and setuid bits", async () => {
  const shown = JSON.parse(await ok(["image", "show", image])) as ImageJson;
  const sample = [
    "/usr/bin/passwd",
    "/usr/bin/chage",
    "/usr/bin/su",
    "/etc/shadow",
    "/etc/passwd",
    "/tmp",
    "/root",
    "/var/log/journal",
    "/usr/lib/openssh/ssh-keysign",
    "/usr/sbin/sshd",
  ];
  for (const file of sample) {
    assert.equal(statIn(shown.rootfsPath, file), statIn(DEFAULT_ROOTFS, file), file);
  }
  assert.match(statIn(shown.rootfsPath, "/usr/bin/passwd"), /^04755 0:0$/);
});

test("a second pull of the same image takes the cached path", { timeout: 120_000 }, async () => {
  const r = await banger(["image", "pull", ref, "--name", `${image}-2`, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { type: string; step?: string });
  assert.ok(events.some((e) => e.type === "step" && e.step === "oci-download"));
  assert.ok(!events.some((e) => e.type === "progress" && e.step === "oci-download"));
  await ok(["image", "delete", `${image}-2`]);
});

test("image delete and kernel rm are refused while a VM uses them", async () => {
  const stored = JSON.parse(await ok(["kernel", "show", "debian-bookworm-cloud"])) as {
    kernelPath: string;
    initrdPath: string;
  };
  await ok([
    "kernel",
    "import",
    kernel,
    "--kernel",
    stored.kernelPath,
    "--initrd",
    stored.initrdPath,
  ]);
  await ok(["vm", "create", "--name", vm, "--image", image, "--kernel", kernel, "--no-start"]);

  const del = await banger(["image", "delete", image]);
  assert.equal(del.code, 1);
  assert.match(del.stderr, new RegExp(`cannot delete image "${image}": used by VM "${vm}"`));
  const rmk = await banger(["kernel", "rm", kernel]);
  assert.equal(rmk.code, 1);
  assert.match(rmk.stderr, new RegExp(`cannot remove kernel "${kernel}": used by VM "${vm}"`));

  await ok(["vm", "delete", vm]);
  await ok(["kernel", "rm", kernel]);
  const list = await ok(["kernel", "list"]);
  assert.ok(!list.includes(kernel));
});

test(
  "an image without systemd boots through the first-boot init, agent and sshd answering",
  { timeout: 300_000 },
  async () => {
    const pull = await banger([
      "image",
      "pull",
      `${reg.host}/e2e/debian:no-systemd`,
      "--name",
      noSystemd,
    ]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(
      pull.stderr,
      /the image has no systemd: its first boot installs them and needs --nat/,
    );
    const shown = JSON.parse(await ok(["image", "show", noSystemd])) as ImageJson & {
      needsNat?: boolean;
    };
    assert.equal(shown.needsNat, true);

    // No --nat: the install cannot reach a mirror, and the script carries on without systemd.
    const run = await banger([
      "vm",
      "run",
      "--image",
      noSystemd,
      "--name",
      noSystemdVm,
      "--",
      "readlink",
      "/sbin/init",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /installs the systemd or sshd it lacks on its first boot/);
    assert.equal(run.stdout, "/usr/lib/banger/first-boot\n");
    const ports = await ok(["vm", "ports", noSystemdVm]);
    assert.match(ports, /sshd/);
    const logs = await ok(["vm", "logs", noSystemdVm]);
    assert.match(logs, /banger-first-boot: installing systemd and an SSH server/);
    await ok(["vm", "delete", noSystemdVm]);
  },
);

test("an unknown tag names the repository and the tag", async () => {
  const r = await banger(["image", "pull", `${reg.host}/e2e/debian:no-such-tag`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /e2e\/debian/);
  assert.match(r.stderr, /no-such-tag/);
  const images = await ok(["image", "list"]);
  assert.ok(!images.includes("debian-no-such-tag"));
});

test("image cache prune says what it frees, and a dry run frees nothing", async () => {
  const dry = await ok(["image", "cache", "prune", "--dry-run"]);
  const would = /^would free (\S+) in (\d+) files$/m.exec(dry);
  assert.ok(would && Number(would[2]) > 0, dry);
  assert.match(
    await ok(["image", "cache", "prune", "--dry-run"]),
    new RegExp(`would free ${would[1]} in ${would[2]} files`),
  );
  assert.match(
    await ok(["image", "cache", "prune"]),
    new RegExp(`^freed ${would[1]} in ${would[2]} files$`, "m"),
  );
  assert.match(await ok(["image", "cache", "prune", "--dry-run"]), /^would free 0M in 0 files$/m);
  const images = await ok(["image", "list"]);
  assert.match(images, new RegExp(image), "pulled images stay without the cache");
});
