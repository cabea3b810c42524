import { vmFiles } from "../paths/index.js";
import type { VmRecord } from "../store/index.js";
import type { VmContext } from "./context.js";
import { readHandles } from "./handles.js";
import { releaseRuntime } from "./runtime.js";
import { mayHaveProcess } from "./state.js";

/**
 * Checks a record against reality: a VM said to be up whose VMM is gone becomes `stopped`
 * and gives back its tap and lease. A VM busy in another operation is returned as it is.
 */
export async function refreshVm(ctx: VmContext, vm: VmRecord): Promise<VmRecord> {
  if (!mayHaveProcess(vm.state) || vm.state === "error") return vm;
  const handles = await readHandles(vmFiles(ctx.paths, vm.id).handles);
  if (handles && (await ctx.driver.isAlive(handles.vmm))) return vm;
  if (vm.state === "starting" && !handles) return vm;
  ctx.logger.info({ vmId: vm.id, op: "reconcile" }, "VMM process is gone; marking the VM stopped");
  await releaseRuntime(ctx, vm);
  ctx.store.setVmState(vm.id, "stopped");
  return { ...vm, state: "stopped", lastError: null };
}

/** Same check for every VM at daemon start; a VM left `starting` or `stopping` is settled. */
export async function reconcileAll(ctx: VmContext): Promise<void> {
  for (const vm of ctx.store.listVms()) {
    if (!mayHaveProcess(vm.state)) continue;
    const handles = await readHandles(vmFiles(ctx.paths, vm.id).handles);
    const alive = handles !== undefined && (await ctx.driver.isAlive(handles.vmm));
    if (alive && vm.state !== "error") {
      if (vm.state !== "running") ctx.store.setVmState(vm.id, "running");
      ctx.logger.info({ vmId: vm.id, op: "reconcile", pid: handles.vmm.pid }, "VM still running");
      continue;
    }
    if (vm.state === "error") {
      await releaseRuntime(ctx, vm);
      continue;
    }
    ctx.logger.info(
      { vmId: vm.id, op: "reconcile" },
      "VMM process is gone; marking the VM stopped",
    );
    await releaseRuntime(ctx, vm);
    ctx.store.setVmState(vm.id, "stopped");
  }
}
