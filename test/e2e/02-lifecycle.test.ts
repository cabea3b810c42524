import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import {
  banger,
  cleanup,
  daemonPid,
  inVm,
  leaseOf,
  linkExists,
  list,
  ok,
  show,
  STATE_DIR,
} from "./harness.js";

const names: string[] = [];
after(() => cleanup(...names));

test(
  "two VMs started at once get distinct names, addresses and taps, and reach each other",
  { timeout: 600_000 },
  async () => {
    const [a, b] = await Promise.all([ok(["vm", "run", "-d"]), ok(["vm", "run", "-d"])]);
    const nameA = a.trim();
    const nameB = b.trim();
    names.push(nameA, nameB);
    assert.notEqual(nameA, nameB);
    assert.match(nameA, /^[a-z]+-[a-z]+(-\d+)?$/, "a generated two-word name");
    const [vmA, vmB] = await Promise.all([show(nameA), show(nameB)]);
    assert.equal(vmA.state, "running");
    assert.equal(vmB.state, "running");
    assert.notEqual(vmA.address, vmB.address);
    assert.notEqual(vmA.tap, vmB.tap);

    // A's shell opens B's SSH port across the bridge and reads its banner.
    const probe = `exec 3<>/dev/tcp/${vmB.address}/22; head -c 4 <&3`;
    const r = await inVm(nameA, ["bash", "-c", probe]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "SSH-");
  },
);

test("a file written to /root survives stop and start", { timeout: 600_000 }, async () => {
  const name = names[0]!;
  const write = await inVm(name, ["sh", "-c", "echo kept > /root/keep.txt && sync"]);
  assert.equal(write.code, 0, write.stderr);
  const before = await show(name);

  await ok(["vm", "stop", name]);
  const stopped = await show(name);
  assert.equal(stopped.state, "stopped");
  assert.equal(stopped.address, undefined);
  assert.ok(!linkExists(before.tap!), "the tap is removed on stop");

  await ok(["vm", "start", name]);
  assert.equal((await show(name)).state, "running");
  const read = await inVm(name, ["cat", "/root/keep.txt"]);
  assert.equal(read.stdout, "kept\n");
});

test(
  "a daemon killed with SIGKILL and restarted still lists and reaches the running VM",
  { timeout: 300_000 },
  async () => {
    const name = names[1]!;
    const pid = daemonPid();
    assert.ok(pid, "the daemon wrote its pid file");
    process.kill(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 300));

    const vms = await list(); // starts a new daemon
    assert.notEqual(daemonPid(), pid);
    assert.equal(vms.find((v) => v.name === name)?.state, "running");
    const r = await inVm(name, ["hostname"]);
    assert.equal(r.stdout.trim(), name);
  },
);

test("kill stops the VMM and releases the tap", { timeout: 120_000 }, async () => {
  const name = names[1]!;
  const tap = (await show(name)).tap!;
  await ok(["vm", "kill", name]);
  assert.equal((await show(name)).state, "stopped");
  assert.ok(!linkExists(tap));
});

test("a lifecycle command over several VMs reports each failure and exits non-zero", async () => {
  const r = await banger(["vm", "stop", names[1]!, "no-such-vm"]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`${names[1]}: stopped`));
  assert.match(r.stderr, /VM "no-such-vm" does not exist/);
});

test("delete releases tap, lease and disks", { timeout: 120_000 }, async () => {
  const name = names[0]!;
  const vm = await show(name);
  const dir = path.join(STATE_DIR, "vms", vm.id);
  assert.ok(existsSync(path.join(dir, "root.qcow2")));
  assert.equal(await leaseOf(vm.id), vm.address);
  await ok(["vm", "delete", name]);
  assert.ok(!existsSync(dir), "the VM directory and its disks are gone");
  assert.ok(!linkExists(vm.tap!), "the tap is gone");
  assert.equal(await leaseOf(vm.id), undefined, "the lease is released");
  assert.ok(!(await list()).some((v) => v.name === name));
  const r = await banger(["vm", "show", name]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /does not exist/);
});
