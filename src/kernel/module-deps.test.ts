import assert from "node:assert/strict";
import { test } from "node:test";
import { moduleName, parseModulesBuiltin, parseModulesDep, planModules } from "./module-deps.js";

// Shaped like bookworm's cloud kernel after depmod.
const DEP = `kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/char/hw_random/virtio-rng.ko.xz: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/net/core/failover.ko:
not a dependency line
`;
const BUILTIN = "kernel/fs/ext4/ext4.ko\nkernel/fs/jbd2/jbd2.ko\n";

test("loads every dependency before its users, each module once", () => {
  const plan = planModules(
    ["virtio_mmio", "virtio_blk", "virtio_net"],
    parseModulesDep(DEP),
    new Set(),
  );
  assert.deepEqual(plan.load, [
    "kernel/drivers/virtio/virtio.ko",
    "kernel/drivers/virtio/virtio_ring.ko",
    "kernel/drivers/virtio/virtio_mmio.ko",
    "kernel/drivers/block/virtio_blk.ko",
    "kernel/net/core/failover.ko",
    "kernel/drivers/net/net_failover.ko",
    "kernel/drivers/net/virtio_net.ko",
  ]);
  assert.equal(new Set(plan.load).size, plan.load.length);
});

test("skips built-in modules and names the ones that exist nowhere", () => {
  const plan = planModules(
    ["ext4", "virtio_rng", "vsock"],
    parseModulesDep(DEP),
    parseModulesBuiltin(BUILTIN),
  );
  assert.deepEqual(plan.builtin, ["ext4"]);
  assert.deepEqual(plan.missing, ["vsock"]);
  assert.equal(plan.load.at(-1), "kernel/drivers/char/hw_random/virtio-rng.ko.xz");
});

test("a dependency cycle ends instead of looping, still without duplicates", () => {
  const deps = parseModulesDep("a.ko: b.ko\nb.ko: c.ko\nc.ko: a.ko\n");
  const plan = planModules(["a", "c"], deps, new Set());
  assert.deepEqual(plan.load.slice().sort(), ["a.ko", "b.ko", "c.ko"]);
  assert.equal(plan.load.at(-1), "a.ko");
});

test("module names fold dashes and drop compression suffixes", () => {
  assert.equal(moduleName("kernel/drivers/char/hw_random/virtio-rng.ko.zst"), "virtio_rng");
  assert.equal(moduleName("vsock.ko"), "vsock");
});
