// Private: bytes between a host process and a guest command over the system ssh. sshExec
// carries text only; packs, tar streams and binary patches need raw bytes.
import type { ChildProcess } from "node:child_process";
import { PassThrough } from "node:stream";
import { sshArgs, type SshTarget } from "../guest/index.js";
import { checkExit, startChild, type ChildExit } from "./child.js";

/** A host command whose stdout feeds the guest command's stdin. */
export interface HostSource {
  cmd: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  input: string | Buffer;
}

export interface PipeOptions {
  signal?: AbortSignal;
  /** Called with the running total of bytes sent. */
  onBytes?: (sent: number) => void;
}

/**
 * Runs `source` on the host and `command` in the guest with the first's stdout as the second's
 * stdin. Resolves with the guest side's exit (any status) once both ended; throws when the host
 * side failed (SUBPROCESS_FAILED) or the signal aborted (INTERRUPTED).
 */
export async function pipeToGuest(
  target: SshTarget,
  source: HostSource,
  command: readonly string[],
  opts: PipeOptions = {},
): Promise<ChildExit> {
  const signal = opts.signal;
  const producer = startChild(source.cmd, source.args, {
    cwd: source.cwd,
    env: source.env,
    input: source.input,
    ...(signal === undefined ? {} : { signal }),
  });
  const counted = new PassThrough();
  let sent = 0;
  counted.on("data", (c: Buffer) => opts.onBytes?.((sent += c.length)));
  producer.child.stdout?.pipe(counted);

  const sshArgv = sshArgs(target, { command });
  const ssh = startChild("ssh", sshArgv, {
    input: counted,
    ...(signal === undefined ? {} : { signal }),
  });
  // Whichever side ends first must not leave the other blocked on a pipe nobody drains.
  producer.exited.then(undefined, () => counted.end());
  void ssh.exited.then(
    (exit) => (exit.code === 0 ? undefined : stopProducer(producer.child, counted)),
    () => stopProducer(producer.child, counted),
  );
  const [hostExit, guestExit] = await Promise.all([producer.exited, ssh.exited]);
  if (hostExit.stoppedFor === "abort" || guestExit.stoppedFor === "abort") {
    checkExit("ssh", sshArgv, { ...guestExit, stoppedFor: "abort" });
  }
  // A guest that failed first makes the host side die of a broken pipe: report the guest.
  if (guestExit.code !== 0) return guestExit;
  checkExit(source.cmd, source.args, hostExit);
  return guestExit;
}

function stopProducer(child: ChildProcess, counted: PassThrough): void {
  counted.destroy();
  child.stdout?.destroy();
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
}

export interface ReadOptions {
  maxBytes: number;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Runs `command` in the guest and resolves with its exit and raw stdout (up to `maxBytes`). */
export function readFromGuest(
  target: SshTarget,
  command: readonly string[],
  opts: ReadOptions,
): Promise<ChildExit> {
  return startChild("ssh", sshArgs(target, { command }), {
    collectStdout: true,
    maxStdoutBytes: opts.maxBytes,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
  }).exited;
}
