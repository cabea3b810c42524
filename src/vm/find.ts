import { BangerError } from "../errors/index.js";
import type { VmRecord } from "../store/index.js";
import type { VmContext } from "./context.js";

/** The VM named `ref` (or with that id); VM_NOT_FOUND with `banger vm list` as the hint. */
export function findVm(ctx: VmContext, ref: string): VmRecord {
  const vm = ctx.store.getVmByName(ref) ?? ctx.store.getVm(ref);
  if (!vm) {
    throw new BangerError("VM_NOT_FOUND", `VM "${ref}" does not exist`, {
      hint: "banger vm list",
    });
  }
  return vm;
}
