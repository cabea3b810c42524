// The qemu driver: launch (qemu-launch.ts), find again, watch and stop a qemu microVM. A
// handle's pid is only ever signalled after /proc confirms it is still that VM's qemu.
import { BangerError, isErrno } from "../errors/index.js";
import { launchQemu } from "./qemu-launch.js";
import { qmpExecute } from "./qmp-client.js";
import type { Driver, DriverCapabilities, VmmFiles, VmmHandle } from "./types.js";
import { isVmmProcess, readPidFile } from "./vmm-process.js";

const DRIVER_NAME = "qemu";
const EXIT_POLL_MS = 50;

const CAPABILITIES: DriverCapabilities = {
  agentChannel: "virtio-serial",
  diskFormats: ["qcow2", "raw"],
  gracefulPowerOff: true,
};

export function createQemuDriver(binary = "qemu-system-x86_64"): Driver {
  return {
    name: DRIVER_NAME,
    capabilities: CAPABILITIES,
    launch: (spec, opts) => launchQemu(binary, spec, opts?.signal),
    reattach,
    isAlive,
    requestPowerOff,
    kill,
    waitForExit,
  };
}

async function reattach(files: VmmFiles): Promise<VmmHandle | undefined> {
  const pid = await readPidFile(files.vmmPidFile);
  if (pid === undefined || !(await isVmmProcess(pid, files.controlSocket))) return undefined;
  return {
    driver: DRIVER_NAME,
    pid,
    controlSocket: files.controlSocket,
    pidFile: files.vmmPidFile,
  };
}

function isAlive(handle: VmmHandle): Promise<boolean> {
  return isVmmProcess(handle.pid, handle.controlSocket);
}

async function requestPowerOff(handle: VmmHandle): Promise<void> {
  if (!(await isAlive(handle))) {
    throw new BangerError(
      "VMM_FAILED",
      `cannot power off: qemu (pid ${handle.pid}) is not running`,
    );
  }
  await qmpExecute(handle.controlSocket, "system_powerdown");
}

async function kill(handle: VmmHandle, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (!(await isAlive(handle))) return;
  try {
    process.kill(handle.pid, signal);
  } catch (err) {
    if (!isErrno(err, "ESRCH")) throw err;
  }
}

async function waitForExit(handle: VmmHandle, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isAlive(handle))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
  }
}
