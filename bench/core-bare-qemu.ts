// The overhead bench's baseline: the exact qemu command line banger ran for a VM, with that
// VM's own boot files, started by hand (no CLI, no daemon) and timed until port 22 says "SSH-".
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import path from "node:path";
import { run, which } from "../src/host/index.js";
import { createTap } from "../src/net/index.js";
import {
  BRIDGE,
  STATE_DIR,
  abort,
  bangerOk,
  checkAborted,
  copySparse,
  deleteVms,
  jsonLines,
  stopChild,
  track,
  trackDir,
  trackTap,
  trackVm,
} from "./core-harness.js";

const BOOT_TIMEOUT_MS = 180_000;
const POLL_MS = 100;
const ATTEMPT_TIMEOUT_MS = 1_000;

export interface BareVm {
  qemu: string;
  args: string[];
  address: string;
  dir: string;
}

interface VmShow {
  id: string;
  pid?: number;
  address?: string;
  tap?: string;
}

/**
 * Creates and starts VM `name` through banger, keeps a pristine copy of its disks from before
 * the boot, its initrd (kernel initramfs plus its per-VM archive) and its qemu argv from
 * /proc, then deletes it. The argv is pointed at a scratch dir and a tap of the bench's own.
 */
export async function prepareBareVm(name: string): Promise<BareVm> {
  trackVm(name);
  const created = await bangerOk(["vm", "create", "--no-start", "--name", name, "--json"], 120_000);
  const id = jsonLines(created.stdout).find((v) => typeof v["id"] === "string")?.["id"];
  if (typeof id !== "string") throw new Error(`vm create gave no id: ${created.stdout}`);
  const vmDir = path.join(STATE_DIR, "vms", id);
  const dir = await mkdtemp(path.join(path.dirname(STATE_DIR), "bare-"));
  trackDir(dir);
  await copySparse(path.join(vmDir, "root.qcow2"), path.join(dir, "pristine-root.qcow2"));
  await copySparse(path.join(vmDir, "work.ext4"), path.join(dir, "pristine-work.ext4"));

  await bangerOk(["vm", "start", name], 300_000);
  const shown = await bangerOk(["vm", "show", name, "--json"], 30_000);
  const vm = JSON.parse(shown.stdout) as VmShow;
  if (vm.pid === undefined || vm.address === undefined || vm.tap === undefined) {
    throw new Error(`vm show ${name} gave no pid, address or tap: ${shown.stdout}`);
  }
  const cmdline = await readFile(`/proc/${vm.pid}/cmdline`, "utf8");
  const argv = cmdline.split("\0").filter((a, i, all) => a !== "" || i < all.length - 1);
  await copySparse(path.join(vmDir, "initrd.img"), path.join(dir, "initrd.img"));
  await deleteVms([name]);

  const tap = `bbtap${process.pid % 100_000}`;
  trackTap(tap);
  await createTap(tap, BRIDGE);
  const [qemu, ...rest] = argv;
  if (qemu === undefined) throw new Error(`empty /proc/${vm.pid}/cmdline`);
  return { qemu, args: rewriteArgv(rest, vmDir, dir, vm.tap, tap), address: vm.address, dir };
}

/** banger's argv with its VM dir and tap swapped for ours, and in the foreground. */
export function rewriteArgv(
  args: string[],
  vmDir: string,
  dir: string,
  fromTap: string,
  toTap: string,
): string[] {
  let taps = 0;
  const out = args
    .filter((a) => a !== "-daemonize")
    .map((a) => a.replaceAll(vmDir, dir))
    .map((a) => {
      if (!a.includes(`ifname=${fromTap},`)) return a;
      taps++;
      return a.replace(`ifname=${fromTap},`, `ifname=${toTap},`);
    });
  if (taps !== 1) throw new Error(`expected one -netdev ifname=${fromTap} in qemu's argv`);
  if (out.some((a) => a.includes(vmDir))) throw new Error(`argv still names ${vmDir}`);
  return out;
}

/**
 * Boots the bare VM from fresh copies of its pristine disks and returns the milliseconds from
 * spawning qemu until port 22 sent "SSH-". The disk copies happen before the clock starts;
 * qemu is killed (SIGKILL) afterwards in every path.
 */
export async function bootBare(vm: BareVm): Promise<number> {
  await copySparse(path.join(vm.dir, "pristine-root.qcow2"), path.join(vm.dir, "root.qcow2"));
  await copySparse(path.join(vm.dir, "pristine-work.ext4"), path.join(vm.dir, "work.ext4"));
  for (const f of ["console.log", "control.sock", "agent.sock", "vmm.pid", "vmm.log"]) {
    await rm(path.join(vm.dir, f), { force: true });
  }
  await flushNeighbours();
  checkAborted();

  // pdeathsig: qemu dies with the bench even if the bench itself is SIGKILLed.
  const setpriv = await which("setpriv");
  const [cmd, args] =
    setpriv === undefined
      ? [vm.qemu, vm.args]
      : [setpriv, ["--pdeathsig", "KILL", "--", vm.qemu, ...vm.args]];
  const started = performance.now();
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  track(child);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await waitForBanner(vm.address, () => child.exitCode !== null || child.signalCode !== null);
    return performance.now() - started;
  } catch (err) {
    throw new Error(`bare qemu boot failed: ${String(err)}\n${stderr.trim()}`, { cause: err });
  } finally {
    stopChild(child, "SIGKILL", 0);
    await exited;
  }
}

/**
 * A stale ARP entry for the address (left by the previous VM that had it, with another MAC)
 * would delay the first answer by seconds; both sides of the bench start without one.
 */
export async function flushNeighbours(): Promise<void> {
  await run("ip", ["neigh", "flush", "dev", BRIDGE], { timeoutMs: 10_000 }).catch(() => undefined);
}

async function waitForBanner(address: string, qemuGone: () => boolean): Promise<void> {
  const deadline = performance.now() + BOOT_TIMEOUT_MS;
  while (performance.now() < deadline) {
    checkAborted();
    if (qemuGone()) throw new Error("qemu exited before SSH answered");
    if (await sshBanner(address)) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`no SSH banner from ${address}:22 within ${BOOT_TIMEOUT_MS} ms`);
}

/**
 * Polls `address` like the bare side does until it says "SSH-" or `done()` turns true, and
 * resolves with the milliseconds since `startedAt` (undefined if it never answered). Lets the
 * bench see when banger's guest was really up, apart from when banger noticed.
 */
export async function watchBanner(
  address: string,
  startedAt: number,
  done: () => boolean,
): Promise<number | undefined> {
  while (!done() && !abort.signal.aborted) {
    if (await sshBanner(address)) return performance.now() - startedAt;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return undefined;
}

/** One attempt: true when the server's first bytes start with "SSH-". Never rejects. */
function sshBanner(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port: 22 });
    let received = "";
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      abort.signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(ok);
    };
    const onAbort = (): void => finish(false);
    const timer = setTimeout(() => finish(false), ATTEMPT_TIMEOUT_MS);
    abort.signal.addEventListener("abort", onAbort, { once: true });
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (received.length >= 4) finish(received.startsWith("SSH-"));
    });
    socket.on("error", () => finish(false));
    socket.on("close", () => finish(false));
  });
}
