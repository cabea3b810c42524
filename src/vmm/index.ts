// Virtual machine monitors: one driver interface (role interfaces plus capability flags), the
// qemu driver, and the choice of accelerator. Nothing outside vmm branches on a driver's name.
import * as accel from "./accel.js";
import * as args from "./qemu-args.js";
import { createQemuDriver } from "./qemu-driver.js";
import type { Accel, Driver, MachineSpec } from "./types.js";

export type {
  Accel,
  DiskSpec,
  MachineSpec,
  VmmFiles,
  VmmHandle,
  DriverCapabilities,
  Driver,
  Launcher,
  ProcessTracker,
  Stopper,
} from "./types.js";
export type { QemuHostFacts } from "./qemu-args.js";
export { QmpClient, qmpExecute } from "./qmp-client.js";

/**
 * The qemu driver (`qemu-system-x86_64 -M microvm`, or `opts.binary`). Its handles name
 * `driver: "qemu"`. Contracts of the methods:
 * - `launch` resolves once qemu has daemonized (own session, survives the daemon) with the VM
 *   running; its pid file, QMP socket and agent socket exist then. The console log and the
 *   VMM log (qemu's own stderr, which qemu writes from then on) are truncated.
 *   Rejects with HOST_MISSING_TOOL when the binary is absent, VMM_FAILED (command line plus the
 *   tail of the VMM log) when qemu refuses to start, INTERRUPTED when `signal` aborted (the VM
 *   it may have started is killed first), VM_INVALID_STATE when this VM's qemu already runs.
 * - `reattach` reads the pid file and resolves with a handle only while /proc shows that pid is
 *   qemu serving this control socket; it never talks to the VM, so a hung guest still counts.
 * - `isAlive` never mistakes a recycled pid for the VM.
 * - `requestPowerOff` presses the ACPI power button (QMP `system_powerdown`, each QMP step
 *   bounded by 3 s); whether the guest obeys is up to it. VMM_FAILED when qemu is not running
 *   or does not answer.
 * - `kill` sends `signal` (default SIGKILL) to a live VM; a no-op when it is already gone.
 * - `waitForExit` polls every 50 ms; true once the process is gone, false after `timeoutMs`.
 */
export function qemuDriver(opts: { binary?: string } = {}): Driver {
  return createQemuDriver(opts.binary);
}

/**
 * The accelerator to run guests with. "tcg" is returned as is. "auto" and "kvm" look at
 * /dev/kvm; when it exists, one probe boot of `kernelPath` under KVM (at most `timeoutMs`,
 * default 6000) must reach the kernel's root-fs panic, else KVM counts as unusable (as with
 * nested PVM, where standard guests hang or abort). The probe's answer is cached in
 * `cachePath`, keyed by the qemu binary (path, mtime), the kernel (path, size) and /dev/kvm,
 * and reused while the key matches. The probe process is killed in every path.
 * "auto" falls back to TCG and says why in `reason`; "kvm" then rejects with VMM_FAILED.
 * Rejects with HOST_MISSING_TOOL without qemu, KERNEL_NOT_FOUND without the kernel.
 */
export function resolveAccel(opts: {
  requested: "auto" | "kvm" | "tcg";
  kernelPath: string;
  cachePath: string;
  qemuBinary?: string;
  timeoutMs?: number;
}): Promise<{ accel: Accel; reason: string }> {
  return accel.resolveAccel(opts);
}

/**
 * The qemu argument list (without the binary) for `spec`. Pure. Under TCG, `host.tscKhz`
 * adds the kernel arguments that keep the guest's clock from stalling the boot; `launch`
 * reads it from the host. Throws a plain Error on a malformed spec (disk id, tap, MAC, sizes).
 */
export function buildQemuArgs(spec: MachineSpec, host: args.QemuHostFacts = {}): string[] {
  return args.buildQemuArgs(spec, host);
}
