import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import {
  probeKey,
  readCachedChoice,
  resolveAccel,
  sameKey,
  writeCachedChoice,
  type ProbeKey,
} from "./accel.js";
import { probeArgs, probeBoot } from "./kvm-probe.js";

let dir = "";
let kernel = "";
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "accel-"));
  kernel = path.join(dir, "vmlinuz");
  await writeFile(kernel, "not really a kernel");
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A stand-in for qemu in unit tests only: a shell script with the given body. */
async function fakeQemu(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

const key: ProbeKey = {
  qemuBinary: "/usr/bin/qemu-system-x86_64",
  qemuMtimeMs: 1000,
  kernelPath: "/k/vmlinuz",
  kernelSizeBytes: 42,
  kvmPresent: true,
};

test("probeArgs: KVM, no initrd, panic at once, no reboot, console on stdio", () => {
  const args = probeArgs("/k/vmlinuz", "kvm");
  assert.ok(args.includes("kvm"));
  assert.ok(!args.includes("-initrd"));
  assert.ok(args.includes("-no-reboot"));
  assert.equal(args[args.indexOf("-append") + 1], "console=ttyS0 panic=-1");
  assert.equal(args[args.indexOf("-serial") + 1], "stdio");
});

test("probeBoot: the root-fs panic on the console means the accelerator works", async () => {
  const qemu = await fakeQemu(
    "qemu-ok",
    'echo "[ 0.9] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"; sleep 30',
  );
  const result = await probeBoot(qemu, kernel, "kvm", 5000);
  assert.equal(result.reached, true);
  assert.ok(result.elapsedMs < 5000, `took ${result.elapsedMs} ms, so the probe was not killed`);
});

test("probeBoot: a hang is cut off at the timeout", async () => {
  const qemu = await fakeQemu("qemu-hang", "echo booting; exec sleep 30");
  const result = await probeBoot(qemu, kernel, "kvm", 300);
  assert.equal(result.reached, false);
  assert.match(result.why, /no root-fs panic within 300 ms/);
  assert.ok(result.elapsedMs < 3000);
});

test("probeBoot: an abort says how qemu ended and its last stderr line", async () => {
  const qemu = await fakeQemu(
    "qemu-abort",
    "echo 'qemu-system-x86_64: error: failed to set MSR 0x10a' >&2; exit 134",
  );
  const result = await probeBoot(qemu, kernel, "kvm", 5000);
  assert.equal(result.reached, false);
  assert.match(result.why, /exited with status 134/);
  assert.match(result.why, /failed to set MSR 0x10a/);
});

test("sameKey: any changed field invalidates, missing fields too", () => {
  assert.equal(sameKey(key, { ...key }), true);
  assert.equal(sameKey(key, { ...key, qemuMtimeMs: 1001 }), false);
  assert.equal(sameKey(key, { ...key, kernelSizeBytes: 43 }), false);
  const partial: Partial<ProbeKey> = { ...key };
  delete partial.kvmPresent;
  assert.equal(sameKey(key, partial as ProbeKey), false);
});

test("the cache round-trips and is ignored when stale, corrupt or missing", async () => {
  const cachePath = path.join(dir, "sub", "accel-probe.json");
  assert.equal(await readCachedChoice(cachePath, key), undefined);
  const choice = { accel: "tcg" as const, reason: "because" };
  await writeCachedChoice(cachePath, { version: 1, key, choice });
  assert.deepEqual(await readCachedChoice(cachePath, key), choice);
  assert.equal(await readCachedChoice(cachePath, { ...key, kernelPath: "/other" }), undefined);
  await writeFile(cachePath, "{ half");
  assert.equal(await readCachedChoice(cachePath, key), undefined);
  await writeFile(cachePath, JSON.stringify({ version: 1, key, choice: { accel: "xen" } }));
  assert.equal(await readCachedChoice(cachePath, key), undefined);
});

test("probeKey: names the binary and kernel; a missing kernel is KERNEL_NOT_FOUND", async () => {
  const qemu = await fakeQemu("qemu-key", "exit 0");
  const k = await probeKey(qemu, kernel);
  assert.equal(k.qemuBinary, qemu);
  assert.equal(k.kernelSizeBytes, "not really a kernel".length);
  await assert.rejects(probeKey(qemu, path.join(dir, "absent")), (err) => {
    assert.ok(isBangerError(err, "KERNEL_NOT_FOUND"));
    return true;
  });
});

test("resolveAccel: tcg is taken as configured, without probing or caching", async () => {
  const cachePath = path.join(dir, "never.json");
  const choice = await resolveAccel({ requested: "tcg", kernelPath: kernel, cachePath });
  assert.equal(choice.accel, "tcg");
  await assert.rejects(readFile(cachePath), /ENOENT/);
});
