import { BangerError } from "../errors/index.js";
import { sshExec } from "../guest/index.js";
import { vmFiles } from "../paths/index.js";
import type { VmRecord } from "../store/index.js";
import type { Reporter } from "../api/index.js";
import { step } from "../api/index.js";
import type { VmContext } from "./context.js";
import { agentClient, imageHasAgent } from "./agent.js";
import { errorText } from "./create.js";
import { readHandles } from "./handles.js";
import { bootVm, releaseRuntime, sshTarget } from "./runtime.js";
import { assertCanDo } from "./state.js";
import { refreshVm } from "./reconcile.js";

const STOP_TIMEOUT_MS = 60_000;
const SIGNALS = new Set([
  "SIGKILL",
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
]);

export interface OpOptions {
  report: Reporter;
  signal?: AbortSignal | undefined;
}

/**
 * Boots a created or stopped VM until SSH answers. On a failed boot the VM is left in
 * `error` (its console kept for `vm logs`); an interrupted start leaves it stopped.
 */
export async function startVm(ctx: VmContext, ref: VmRecord, opts: OpOptions): Promise<VmRecord> {
  return ctx.locks.with(ref.id, async () => {
    const vm = await refreshVm(ctx, ref);
    assertCanDo("start", vm.name, vm.state);
    ctx.store.setVmState(vm.id, "starting");
    try {
      await bootVm(ctx, vm, { report: opts.report, signal: opts.signal });
    } catch (err) {
      const aborted = opts.signal?.aborted === true;
      ctx.store.setVmState(vm.id, aborted ? "stopped" : "error", aborted ? null : errorText(err));
      throw err;
    }
    ctx.store.setVmState(vm.id, "running");
    return { ...vm, state: "running" };
  });
}

/**
 * Shuts the guest down cleanly (poweroff over SSH, and the VMM's power button), kills the VMM
 * after `timeoutMs`, then releases tap and lease. Idempotent on a VM whose process is gone.
 */
export async function stopVm(
  ctx: VmContext,
  ref: VmRecord,
  opts: OpOptions & { timeoutMs?: number },
): Promise<VmRecord> {
  return ctx.locks.with(ref.id, async () => {
    const vm = await refreshVm(ctx, ref);
    if (vm.state === "stopped" || vm.state === "created") return vm;
    assertCanDo("stop", vm.name, vm.state);
    const files = vmFiles(ctx.paths, vm.id);
    const handles = await readHandles(files.handles);
    ctx.store.setVmState(vm.id, "stopping");
    if (handles && (await ctx.driver.isAlive(handles.vmm))) {
      await step(opts.report, "shutdown", "Shutting down the guest", async () => {
        // The agent needs no guest network or sshd; SSH is the fallback for images without it.
        const viaAgent = (await imageHasAgent(ctx, vm))
          ? await agentClient(ctx, vm)
              .poweroff()
              .then(
                () => true,
                () => false,
              )
          : false;
        const target = sshTarget(ctx, vm, handles.address);
        const viaSsh = viaAgent
          ? Promise.resolve(undefined)
          : sshExec(target, ["systemctl", "poweroff"], { timeoutMs: 10_000 }).catch(
              () => undefined,
            );
        if (ctx.driver.capabilities.gracefulPowerOff) {
          await ctx.driver.requestPowerOff(handles.vmm).catch(() => undefined);
        }
        const exited = await ctx.driver.waitForExit(handles.vmm, opts.timeoutMs ?? STOP_TIMEOUT_MS);
        if (!exited) {
          opts.report({
            type: "note",
            level: "warn",
            message: "the guest did not power off in time; killing it",
          });
          await ctx.driver.kill(handles.vmm, "SIGKILL");
          await ctx.driver.waitForExit(handles.vmm, 5000);
        }
        await viaSsh;
      });
    }
    await releaseRuntime(ctx, vm);
    ctx.store.setVmState(vm.id, "stopped");
    return { ...vm, state: "stopped", lastError: null };
  });
}

/** Sends `signal` to the VMM; when it dies, the VM is stopped and its tap and lease released. */
export async function killVm(ctx: VmContext, ref: VmRecord, signal: string): Promise<VmRecord> {
  if (!SIGNALS.has(signal)) {
    throw new BangerError("INVALID_ARGUMENT", `invalid signal "${signal}"`, {
      hint: `use one of ${[...SIGNALS].join(", ")}`,
    });
  }
  return ctx.locks.with(ref.id, async () => {
    const vm = await refreshVm(ctx, ref);
    assertCanDo("kill", vm.name, vm.state);
    const handles = await readHandles(vmFiles(ctx.paths, vm.id).handles);
    if (handles) {
      await ctx.driver.kill(handles.vmm, signal as NodeJS.Signals);
      if (!(await ctx.driver.waitForExit(handles.vmm, signal === "SIGKILL" ? 5000 : 2000))) {
        return vm;
      }
    }
    await releaseRuntime(ctx, vm);
    ctx.store.setVmState(vm.id, "stopped");
    return { ...vm, state: "stopped", lastError: null };
  });
}

export async function restartVm(ctx: VmContext, ref: VmRecord, opts: OpOptions): Promise<VmRecord> {
  const stopped = await stopVm(ctx, ref, opts);
  return startVm(ctx, stopped, opts);
}
