import { BangerError } from "../errors/index.js";
import type { VmState } from "../store/index.js";

export type VmAction = "start" | "stop" | "restart" | "kill" | "delete" | "ssh" | "set";

const ALLOWED: Record<VmAction, readonly VmState[]> = {
  start: ["created", "stopped", "error"],
  stop: ["running", "starting", "error"],
  restart: ["running", "stopped", "created", "error"],
  kill: ["running", "starting", "stopping", "error"],
  delete: ["created", "running", "starting", "stopping", "stopped", "error"],
  ssh: ["running"],
  set: ["created", "stopped"],
};

const NEXT_STEP: Partial<Record<VmState, string>> = {
  running: "banger vm stop",
  stopped: "banger vm start",
  created: "banger vm start",
  error: "banger vm logs",
};

/** True when `action` is legal in `state`. */
export function canDo(action: VmAction, state: VmState): boolean {
  return ALLOWED[action].includes(state);
}

/** Throws VM_INVALID_STATE naming the VM, its state and the command that would help. */
export function assertCanDo(action: VmAction, name: string, state: VmState): void {
  if (canDo(action, state)) return;
  const next = NEXT_STEP[state];
  throw new BangerError(
    "VM_INVALID_STATE",
    `cannot ${action} VM "${name}": it is ${state}`,
    next === undefined ? {} : { hint: `${next} ${name}` },
  );
}

/** States in which a VMM process may exist and must be checked. */
export function mayHaveProcess(state: VmState): boolean {
  return state === "running" || state === "starting" || state === "stopping" || state === "error";
}
