import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { parseConfig } from "../config/index.js";
import { isBangerError } from "../errors/index.js";
import { silentLogger } from "../log/index.js";
import { resolvePaths, vmFiles } from "../paths/index.js";
import { Store, type VmRecord, type VmState } from "../store/index.js";
import type { Driver } from "../vmm/index.js";
import { createVmContext, type VmContext } from "./context.js";
import { setVm } from "./set.js";

async function setup(nftBody: string): Promise<{ ctx: VmContext; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "banger-set-"));
  const nft = path.join(dir, "nft");
  await writeFile(nft, `#!/bin/sh\n${nftBody}\n`);
  await chmod(nft, 0o755);
  const driver = { isAlive: async () => true } as unknown as Driver;
  const ctx = createVmContext({
    paths: resolvePaths({ BANGER_STATE_DIR: dir, BANGER_RUN_DIR: dir }),
    config: parseConfig("", path.join(dir, "config.toml"), { cpus: 4, memoryMib: 8192 }),
    store: new Store(":memory:"),
    driver,
    logger: silentLogger(),
    nftables: { nft, ipForwardPath: path.join(dir, "ip_forward") },
  });
  return { ctx, dir };
}

async function addVm(ctx: VmContext, state: VmState, address?: string): Promise<VmRecord> {
  const now = new Date().toISOString();
  const vm: VmRecord = {
    ...{ id: "vm1", name: "web", image: "i", kernel: "k", vcpus: 1, memoryMib: 512 },
    ...{ diskSizeMib: 1024, state, lastError: null, createdAt: now, updatedAt: now },
  };
  ctx.store.insertVm(vm);
  if (address !== undefined) {
    ctx.store.leaseAddress(vm.id, () => address);
    const files = vmFiles(ctx.paths, vm.id);
    await mkdir(files.dir, { recursive: true });
    const handles = { vmm: { pid: 1 }, tap: "t", address, accel: "tcg", startedAt: now };
    await writeFile(files.handles, JSON.stringify(handles));
  }
  return vm;
}

test("CPUs and memory change on a stopped VM", async () => {
  const { ctx } = await setup("exit 0");
  const vm = await addVm(ctx, "stopped");
  const out = await setVm(ctx, vm, { vcpus: 2, memory: "1G" });
  assert.equal(out.vcpus, 2);
  assert.equal(out.memoryMib, 1024);
});

test("CPUs of a running VM are refused with the stop command as hint, and nothing changes", async () => {
  const { ctx } = await setup("exit 0");
  const vm = await addVm(ctx, "running", "172.16.0.2");
  await assert.rejects(
    setVm(ctx, vm, { vcpus: 2, nat: true }),
    (e) => isBangerError(e, "VM_INVALID_STATE") && e.hint === "banger vm stop web",
  );
  assert.equal(ctx.store.getVm("vm1")?.vcpus, 1);
  assert.equal(ctx.store.getVm("vm1")?.nat, false);
});

test("NAT on a running VM loads a ruleset masquerading its address", async () => {
  const { ctx, dir } = await setup('cat >"$(dirname "$0")/script"');
  const vm = await addVm(ctx, "running", "172.16.0.2");
  const out = await setVm(ctx, vm, { nat: true });
  assert.equal(out.nat, true);
  const script = await readFile(path.join(dir, "script"), "utf8");
  assert.match(script, /ip saddr 172\.16\.0\.2 masquerade/);
  assert.equal(await readFile(path.join(dir, "ip_forward"), "utf8"), "1\n");

  await setVm(ctx, { ...vm, nat: true }, { nat: false });
  assert.doesNotMatch(await readFile(path.join(dir, "script"), "utf8"), /masquerade/);
});

test("NAT refused by the host is rolled back: the VM is not half-configured", async () => {
  const { ctx } = await setup('cat >/dev/null; echo "Error: Could not process rule" >&2; exit 1');
  const vm = await addVm(ctx, "running", "172.16.0.2");
  await assert.rejects(
    setVm(ctx, vm, { nat: true }),
    (e) =>
      isBangerError(e, "NETWORK_SETUP_FAILED") &&
      /cannot turn NAT on for VM "web"/.test(e.message) &&
      /nftables rules/.test(String((e.cause as Error).message)),
  );
  assert.equal(ctx.store.getVm("vm1")?.nat, false);
});
