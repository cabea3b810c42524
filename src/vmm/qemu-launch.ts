// Starting qemu detached: it daemonizes into its own session, writes its pid file, and its
// parent exits once the VM runs. Everything here ends either with a running VM or with no
// process left behind.
import { spawn } from "node:child_process";
import { appendFile, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { BangerError, isErrno } from "../errors/index.js";
import { formatCommand, tailLines, which } from "../host/index.js";
import { readHostTscKhz } from "./host-tsc.js";
import { buildQemuArgs } from "./qemu-args.js";
import type { MachineSpec, VmmHandle } from "./types.js";
import { isVmmProcess, readPidFile } from "./vmm-process.js";

/** Opening disks and sockets takes well under a second; this bounds a stuck parent. */
const LAUNCH_TIMEOUT_MS = 30_000;
const LOG_TAIL_LINES = 20;
const MAX_STDERR_CHARS = 64 * 1024;

/** The absolute path of the qemu binary; HOST_MISSING_TOOL when it is not installed. */
export async function resolveQemuBinary(binary: string): Promise<string> {
  const found = binary.includes("/") ? await executable(binary) : await which(binary);
  if (found === undefined) {
    throw new BangerError("HOST_MISSING_TOOL", `cannot run qemu: "${binary}" is not installed`, {
      hint: "apt-get install qemu-system-x86",
    });
  }
  return found;
}

async function executable(file: string): Promise<string | undefined> {
  try {
    return (await stat(file)).isFile() ? path.resolve(file) : undefined;
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
}

/** qemu chdirs to / when it daemonizes, so every path it may open later must be absolute. */
function absoluteSpec(spec: MachineSpec): MachineSpec {
  const abs = (p: string): string => path.resolve(p);
  const f = spec.files;
  return {
    ...spec,
    kernelPath: abs(spec.kernelPath),
    initrdPath: abs(spec.initrdPath),
    disks: spec.disks.map((d) => ({ ...d, path: abs(d.path) })),
    files: {
      consoleLog: abs(f.consoleLog),
      vmmPidFile: abs(f.vmmPidFile),
      controlSocket: abs(f.controlSocket),
      agentSocket: abs(f.agentSocket),
      vmmLog: abs(f.vmmLog),
    },
  };
}

/** Starts qemu for `spec` and resolves with the handle of the running VM. */
export async function launchQemu(
  binary: string,
  spec: MachineSpec,
  signal?: AbortSignal,
): Promise<VmmHandle> {
  const qemu = await resolveQemuBinary(binary);
  const abs = absoluteSpec(spec);
  const tscKhz = abs.accel === "tcg" ? await readHostTscKhz() : undefined;
  const args = buildQemuArgs(abs, tscKhz === undefined ? {} : { tscKhz });
  const files = abs.files;

  const running = await readPidFile(files.vmmPidFile);
  if (running !== undefined && (await isVmmProcess(running, files.controlSocket))) {
    throw new BangerError(
      "VM_INVALID_STATE",
      `cannot start VM "${spec.name}": its qemu is already running (pid ${running})`,
      { hint: `banger vm stop ${spec.name}` },
    );
  }
  // A stale pid file would name a dead (or recycled) pid until qemu rewrites it.
  await rm(files.vmmPidFile, { force: true });
  // qemu truncates it too once it runs; before that, a stale log would pass for this launch's.
  await writeFile(files.vmmLog, "");
  const parent = await runParent(qemu, args);

  const pid = await readPidFile(files.vmmPidFile);
  const handle: VmmHandle = {
    driver: "qemu",
    pid: pid ?? 0,
    controlSocket: files.controlSocket,
    pidFile: files.vmmPidFile,
  };
  if (signal?.aborted === true) {
    await killIfOurs(handle);
    throw new BangerError("INTERRUPTED", `starting VM "${spec.name}": interrupted`);
  }
  if (parent.how === 0 && pid !== undefined && (await isVmmProcess(pid, files.controlSocket))) {
    return handle;
  }

  await killIfOurs(handle);
  const output = await failureOutput(files.vmmLog, parent.stderr);
  const how = parent.how === 0 ? "exited without leaving a running VM" : parent.how;
  const tail = tailLines(output, LOG_TAIL_LINES);
  throw new BangerError(
    "VMM_FAILED",
    `cannot start VM "${spec.name}": qemu ${how}\n${formatCommand(qemu, args)}` +
      (tail === "" ? "" : `\n${tail}`),
    { hint: `read ${files.vmmLog}, then \`banger vm start ${spec.name}\`` },
  );
}

/**
 * Runs the daemonizing parent. With `-D`, qemu's forked child writes its stderr into vmmLog
 * from offset 0, so nothing else may write there while it runs; the parent's own stderr
 * (option errors before the fork) comes back through a pipe. `how` is 0 on exit status 0. An
 * abort does not stop the parent: the caller kills the VM it leaves, which a half-killed
 * parent could not promise.
 */
function runParent(qemu: string, args: string[]): Promise<{ how: string | 0; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(qemu, args, { detached: true, stdio: ["ignore", "ignore", "pipe"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), LAUNCH_TIMEOUT_MS);
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-MAX_STDERR_CHARS);
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code, sig) => {
      clearTimeout(timer);
      const how =
        code === 0 ? 0 : sig !== null ? `was killed by ${sig}` : `exited with status ${code}`;
      resolve({ how, stderr });
    });
  });
}

async function killIfOurs(handle: VmmHandle): Promise<void> {
  if (handle.pid <= 1 || !(await isVmmProcess(handle.pid, handle.controlSocket))) return;
  try {
    process.kill(handle.pid, "SIGKILL");
  } catch (err) {
    if (!isErrno(err, "ESRCH")) throw err;
  }
}

/** What qemu said about a failed launch; the pipe's part is kept in vmmLog for later reading. */
async function failureOutput(vmmLog: string, parentStderr: string): Promise<string> {
  const logged = await readFile(vmmLog, "utf8").catch((err: unknown) => {
    if (isErrno(err, "ENOENT")) return "";
    throw err;
  });
  if (parentStderr !== "") await appendFile(vmmLog, parentStderr);
  return `${logged}\n${parentStderr}`;
}
