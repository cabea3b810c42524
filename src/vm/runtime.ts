import { readFile, truncate } from "node:fs/promises";
import { step, type Reporter } from "../api/index.js";
import { BangerError, isErrno } from "../errors/index.js";
import {
  closeSshMaster,
  ensureSshKey,
  generateHostKey,
  pinHostKey,
  waitForSsh,
  type SshTarget,
} from "../guest/index.js";
import { buildVmInitrd, getKernel } from "../kernel/index.js";
import {
  allocateAddress,
  createTap,
  deleteTap,
  ensureBridge,
  macForVm,
  parseBridgeCidr,
  tapNameForVm,
} from "../net/index.js";
import { vmFiles } from "../paths/index.js";
import type { VmRecord } from "../store/index.js";
import { resolveAccel, type MachineSpec, type VmmHandle } from "../vmm/index.js";
import { checkHealth, dropAgent, imageHasAgent } from "./agent.js";
import { bootFiles, kernelCmdline } from "./boot-files.js";
import type { VmContext } from "./context.js";
import { readHandles, removeHandles, writeHandles } from "./handles.js";
import { syncNat, syncNatQuietly } from "./nat.js";

const TCG_BOOT_TIMEOUT_MS = 180_000;
const KVM_BOOT_TIMEOUT_MS = 45_000;
const CONSOLE_TAIL_LINES = 20;

export interface BootOptions {
  report: Reporter;
  signal?: AbortSignal | undefined;
  bootTimeoutMs?: number | undefined;
  /** Wait for SSH as well as the agent (always done for an image without the agent). */
  waitForSsh?: boolean | undefined;
  /** Set to true once the VMM process exists; callers use it to decide between rollback and `error`. */
  progress?: { launched: boolean };
}

/** How banger's ssh reaches this VM. */
export function sshTarget(ctx: VmContext, vm: VmRecord, address: string): SshTarget {
  return {
    host: address,
    alias: vm.id,
    name: vm.name,
    keyPath: ctx.paths.sshKeyPath,
    knownHostsPath: ctx.paths.knownHostsPath,
  };
}

/** sshTarget over the VM's shared connection, for the daemon's own series of commands. */
export function sharedSshTarget(ctx: VmContext, vm: VmRecord, address: string): SshTarget {
  return { ...sshTarget(ctx, vm, address), controlPath: vmFiles(ctx.paths, vm.id).sshControl };
}

/**
 * Brings a VM up: lease, tap, boot archive, VMM, then waits until SSH answers. On failure the
 * VMM is killed and tap and lease are released; the caller decides what the record becomes.
 */
export async function bootVm(ctx: VmContext, vm: VmRecord, opts: BootOptions): Promise<void> {
  const { report, signal } = opts;
  const files = vmFiles(ctx.paths, vm.id);
  const subnet = parseBridgeCidr(ctx.config.network.cidr);
  try {
    const { address, tap } = await step(report, "network", "Setting up the network", async () => {
      await ensureBridge({ name: ctx.config.network.bridge, cidr: ctx.config.network.cidr });
      await ctx.bridgeReady?.();
      const address = ctx.store.leaseAddress(vm.id, (used) => allocateAddress(subnet, used));
      const tap = tapNameForVm(vm.id);
      await createTap(tap, ctx.config.network.bridge);
      // Before the guest runs, so it never sees the network without its NAT or isolation.
      await syncNat(ctx);
      return { address, tap };
    });

    const kernel = await getKernel(ctx.paths, vm.kernel);
    await step(report, "boot-files", "Preparing boot files", async () => {
      const key = await ensureSshKey(ctx.paths);
      const host = await generateHostKey(files.hostKey);
      await pinHostKey(ctx.paths.knownHostsPath, vm.id, host.publicKey);
      const files_ = bootFiles({
        name: vm.name,
        address,
        subnet,
        mac: macForVm(vm.id),
        authorizedKey: key.publicKey,
        hostPrivateKey: await readFile(files.hostKey, "utf8"),
        hostPublicKey: host.publicKey,
      });
      await buildVmInitrd({
        baseInitrdPath: kernel.initrdPath,
        outPath: files.initrd,
        files: files_,
      });
    });

    const accel = await resolveAccel({
      requested: ctx.config.accel,
      kernelPath: kernel.kernelPath,
      cachePath: ctx.paths.accelProbePath,
    });
    if (accel.accel === "tcg" && ctx.config.accel === "auto") {
      report({
        type: "note",
        level: "info",
        message: `using TCG software emulation: ${accel.reason}`,
      });
    }

    await resetFile(files.consoleLog);
    const spec: MachineSpec = {
      vmId: vm.id,
      name: vm.name,
      vcpus: vm.vcpus,
      memoryMib: vm.memoryMib,
      kernelPath: kernel.kernelPath,
      initrdPath: files.initrd,
      cmdline: kernelCmdline(),
      disks: [
        { id: "root", path: files.rootOverlay, format: "qcow2" },
        { id: "work", path: files.workDisk, format: "raw" },
      ],
      nic: { tapName: tap, mac: macForVm(vm.id) },
      accel: accel.accel,
      files,
    };
    const handle = await step(
      report,
      "launch",
      `Starting ${ctx.driver.name} (${accel.accel})`,
      () => ctx.driver.launch(spec, signal ? { signal } : {}),
    );
    if (opts.progress) opts.progress.launched = true;
    await writeHandles(files.handles, {
      vmm: handle,
      tap,
      address,
      accel: accel.accel,
      startedAt: new Date().toISOString(),
    });

    const timeoutMs =
      opts.bootTimeoutMs ??
      ctx.config.bootTimeoutMs ??
      (accel.accel === "kvm" ? KVM_BOOT_TIMEOUT_MS : TCG_BOOT_TIMEOUT_MS);
    const deadline = Date.now() + timeoutMs;
    const watch = { ctx, vm, handle, timeoutMs, deadline, signal };
    const hasAgent = await imageHasAgent(ctx, vm);
    if (hasAgent) {
      await step(report, "agent", "Waiting for the guest agent", () =>
        whileAlive(watch, "the guest agent", (s) => waitForAgent(ctx, vm, deadline, s)),
      );
    } else {
      report({
        type: "note",
        level: "info",
        message: `image "${vm.image}" has no guest agent: waiting for SSH instead`,
      });
    }
    if (!hasAgent || opts.waitForSsh) {
      await step(report, "ssh", `Waiting for SSH on ${address}`, () =>
        whileAlive(watch, "SSH", (s) =>
          waitForSsh(address, { timeoutMs: Math.max(1, deadline - Date.now()), signal: s }),
        ),
      );
    }
  } catch (err) {
    await releaseRuntime(ctx, vm);
    throw err;
  }
}

/** Polls the agent's health until it answers; VM_SSH_UNAVAILABLE-like timeout otherwise. */
async function waitForAgent(
  ctx: VmContext,
  vm: VmRecord,
  deadline: number,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    try {
      await checkHealth(ctx, vm);
      return;
    } catch (err) {
      if (signal.aborted) throw err;
      if (Date.now() >= deadline)
        throw new BangerError("AGENT_TIMEOUT", "no answer", { cause: err });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

interface Watch {
  ctx: VmContext;
  vm: VmRecord;
  handle: VmmHandle;
  timeoutMs: number;
  deadline: number;
  signal: AbortSignal | undefined;
}

/**
 * Runs `wait` while watching the VMM: an early death (init failure, bad kernel) or the boot
 * deadline ends the wait with an error carrying the console's last lines.
 */
async function whileAlive(
  w: Watch,
  what: string,
  wait: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const { ctx, vm, handle, signal } = w;
  const files = vmFiles(ctx.paths, vm.id);
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  const watchdog = (async (): Promise<"died" | "aborted"> => {
    while (!stop.signal.aborted) {
      await new Promise((r) => setTimeout(r, 500));
      if (!(await ctx.driver.isAlive(handle))) return "died";
    }
    return "aborted";
  })();
  const timer = setTimeout(() => stop.abort(), Math.max(1, w.deadline - Date.now()));

  try {
    const outcome = await Promise.race([wait(stop.signal).then(() => "up" as const), watchdog]);
    if (outcome === "died") {
      const tail = await consoleTail(files.consoleLog);
      throw new BangerError("VM_START_FAILED", `VM "${vm.name}" stopped during boot\n${tail}`, {
        hint: `banger vm logs ${vm.name}`,
      });
    }
    if (outcome === "aborted") throw new Error("aborted");
  } catch (err) {
    if (signal?.aborted)
      throw new BangerError("INTERRUPTED", `boot of VM "${vm.name}" interrupted`);
    if (err instanceof BangerError && err.code === "VM_START_FAILED") throw err;
    const tail = await consoleTail(files.consoleLog);
    throw new BangerError(
      "VM_BOOT_TIMEOUT",
      `VM "${vm.name}" did not answer ${what} within ${Math.round(w.timeoutMs / 1000)} s; ` +
        `last lines of its console:\n${tail}`,
      { hint: `banger vm logs ${vm.name}`, cause: err },
    );
  } finally {
    clearTimeout(timer);
    stop.abort();
    signal?.removeEventListener("abort", onAbort);
    await watchdog;
  }
}

/** The last lines of the serial console, for error messages. */
export async function consoleTail(file: string, lines = CONSOLE_TAIL_LINES): Promise<string> {
  try {
    const text = await readFile(file, "utf8");
    // Guest output is hostile: drop control characters except newlines and tabs.
    // eslint-disable-next-line no-control-regex
    const clean = text.replace(/\r/g, "").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
    const rows = clean.split("\n").filter((l) => l.trim() !== "");
    return rows.slice(-lines).join("\n") || "(the console is empty)";
  } catch (err) {
    if (isErrno(err, "ENOENT")) return "(no console log)";
    throw err;
  }
}

async function resetFile(file: string): Promise<void> {
  try {
    await truncate(file, 0);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
}

/**
 * Kills the VMM if it still runs and gives back what a running VM holds: its tap, its lease
 * and its handles file. Idempotent; safe on a VM that never started.
 */
export async function releaseRuntime(ctx: VmContext, vm: VmRecord): Promise<void> {
  const files = vmFiles(ctx.paths, vm.id);
  const handles = await readHandles(files.handles);
  if (handles && (await ctx.driver.isAlive(handles.vmm))) {
    await ctx.driver.kill(handles.vmm, "SIGKILL");
    await ctx.driver.waitForExit(handles.vmm, 5000);
  }
  dropAgent(ctx, vm.id);
  await closeSshMaster(files.sshControl);
  await deleteTap(tapNameForVm(vm.id));
  ctx.store.releaseAddress(vm.id);
  if (vm.nat === true || ctx.store.getVm(vm.id)?.nat === true) await syncNatQuietly(ctx);
  await removeHandles(files.handles);
}
