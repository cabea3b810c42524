import type { SetVmRequest } from "../api/index.js";
import { LIMITS, parseSizeMib } from "../config/index.js";
import { BangerError } from "../errors/index.js";
import type { VmRecord } from "../store/index.js";
import type { VmContext } from "./context.js";
import { syncNat, syncNatQuietly } from "./nat.js";
import { refreshVm } from "./reconcile.js";
import { assertCanDo } from "./state.js";

/**
 * Changes a VM's settings. CPUs and memory only while it is created or stopped
 * (VM_INVALID_STATE otherwise, with the stop command as hint); NAT in any state, taking effect
 * at once on a running VM. Nothing changes unless every requested change can be made: a NAT
 * change the host refuses (no nftables) is rolled back and its error thrown. Idempotent.
 */
export async function setVm(ctx: VmContext, ref: VmRecord, req: SetVmRequest): Promise<VmRecord> {
  return ctx.locks.with(ref.id, async () => {
    const vm = await refreshVm(ctx, ref);
    const spec = resizedSpec(vm, req);
    if (spec) {
      assertCanDo("set", vm.name, vm.state);
      ctx.store.updateVmSpec(vm.id, spec);
    }
    if (req.nat !== undefined && req.nat !== (vm.nat === true)) {
      await changeNat(ctx, vm, req.nat);
    }
    ctx.logger.info({ vmId: vm.id, op: "set", ...spec, nat: req.nat }, "VM settings changed");
    return ctx.store.getVm(vm.id) ?? vm;
  });
}

function resizedSpec(
  vm: VmRecord,
  req: SetVmRequest,
): { vcpus: number; memoryMib: number } | undefined {
  if (req.vcpus === undefined && req.memory === undefined) return undefined;
  const vcpus = req.vcpus ?? vm.vcpus;
  if (!Number.isInteger(vcpus) || vcpus < LIMITS.vcpus.min || vcpus > LIMITS.vcpus.max) {
    throw new BangerError(
      "INVALID_ARGUMENT",
      `invalid --vcpu "${vcpus}": must be a whole number from ${LIMITS.vcpus.min} to ` +
        `${LIMITS.vcpus.max}`,
    );
  }
  const memoryMib =
    req.memory === undefined ? vm.memoryMib : parseSizeMib(req.memory, "--memory", LIMITS.memory);
  return { vcpus, memoryMib };
}

async function changeNat(ctx: VmContext, vm: VmRecord, nat: boolean): Promise<void> {
  ctx.store.setVmNat(vm.id, nat);
  if (ctx.store.addressOf(vm.id) === undefined) return;
  try {
    await syncNat(ctx);
  } catch (err) {
    ctx.store.setVmNat(vm.id, !nat);
    await syncNatQuietly(ctx);
    if (!(err instanceof BangerError)) throw err;
    throw new BangerError(err.code, `cannot turn NAT ${nat ? "on" : "off"} for VM "${vm.name}"`, {
      cause: err,
      ...(err.hint === undefined ? {} : { hint: err.hint }),
    });
  }
}
