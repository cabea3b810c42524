import { rm } from "node:fs/promises";
import { forgetHostKey } from "../guest/index.js";
import { vmFiles } from "../paths/index.js";
import type { VmRecord } from "../store/index.js";
import type { VmContext } from "./context.js";
import { releaseRuntime } from "./runtime.js";

/**
 * Removes a VM for good: kills its VMM if it runs (its disks are discarded anyway), releases
 * tap and lease, deletes its directory and disks, its pinned host key and its record.
 */
export async function deleteVm(ctx: VmContext, ref: VmRecord): Promise<void> {
  await ctx.locks.with(ref.id, async () => {
    await releaseRuntime(ctx, ref);
    await rm(vmFiles(ctx.paths, ref.id).dir, { recursive: true, force: true });
    await forgetHostKey(ctx.paths.knownHostsPath, ref.id);
    ctx.store.deleteVm(ref.id);
    ctx.logger.info({ vmId: ref.id, op: "delete", name: ref.name }, "VM deleted");
  });
}

/** VMs that `prune` would delete: stopped, created and failed ones. */
export function prunable(vms: readonly VmRecord[]): VmRecord[] {
  return vms.filter(
    (vm) => vm.state === "stopped" || vm.state === "error" || vm.state === "created",
  );
}
