// One probe boot that tells a working KVM from a /dev/kvm that only runs specially built
// guests (nested PVM): a standard kernel with no root disk must reach its root-fs panic.
import { spawn } from "node:child_process";
import { isErrno } from "../errors/index.js";
import { tailLines } from "../host/index.js";
import { accelKernelArgs, machineArgs, type QemuHostFacts } from "./qemu-args.js";
import type { Accel } from "./types.js";

/** What a working accelerator prints about a second into the boot. */
const ROOT_FS_PANIC = /VFS: Unable to mount root fs/;
const KEEP_OUTPUT_CHARS = 4096;

export interface ProbeResult {
  reached: boolean;
  /** Why the boot did not reach the panic, for the user; empty when it did. */
  why: string;
  elapsedMs: number;
}

export function probeArgs(kernelPath: string, accel: Accel, host: QemuHostFacts = {}): string[] {
  const cmdline = ["console=ttyS0", "panic=-1", ...accelKernelArgs(accel, host)].join(" ");
  return [
    ...machineArgs(accel),
    ...["-m", "256M", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none"],
    ...["-no-reboot", "-kernel", kernelPath, "-append", cmdline],
    ...["-serial", "stdio"],
  ];
}

/**
 * Boots `kernelPath` under `accel` with the serial console on a pipe and resolves once the
 * root-fs panic shows, qemu exits, or `timeoutMs` passes. The qemu process is killed and
 * reaped in every case before this resolves.
 */
export function probeBoot(
  qemu: string,
  kernelPath: string,
  accel: Accel,
  timeoutMs: number,
  host: QemuHostFacts = {},
): Promise<ProbeResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    // Its own process group, so the kill below also takes anything it forked.
    const child = spawn(qemu, probeArgs(kernelPath, accel, host), {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let console = "";
    let stderr = "";
    let verdict: Omit<ProbeResult, "elapsedMs"> | undefined;
    const decide = (v: Omit<ProbeResult, "elapsedMs">): void => {
      verdict ??= v;
      killGroup(child.pid);
    };
    const timer = setTimeout(() => {
      decide({ reached: false, why: `no root-fs panic within ${timeoutMs} ms (boot hangs)` });
    }, timeoutMs);

    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      console = (console + chunk).slice(-KEEP_OUTPUT_CHARS);
      if (ROOT_FS_PANIC.test(console)) decide({ reached: true, why: "" });
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-KEEP_OUTPUT_CHARS);
    });
    child.once("error", (err) =>
      decide({ reached: false, why: `cannot run qemu: ${err.message}` }),
    );
    child.once("close", (code, sig) => {
      clearTimeout(timer);
      const how = sig !== null ? `was killed by ${sig}` : `exited with status ${code}`;
      const tail = tailLines(stderr, 1);
      verdict ??= {
        reached: false,
        why: `qemu ${how} before the kernel ran${tail ? `: ${tail}` : ""}`,
      };
      resolve({ ...verdict, elapsedMs: Date.now() - started });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch (err) {
    if (!isErrno(err, "ESRCH")) throw err;
  }
}
