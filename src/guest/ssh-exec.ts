import { spawn } from "node:child_process";
import { BangerError } from "../errors/index.js";
import { formatCommand, tailLines } from "../host/index.js";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { closeMasterArgs, sshArgs, usableControlPath, type SshTarget } from "./ssh-args.js";
import { throwIfSshFailed } from "./ssh-failure.js";

export interface SshExecOptions {
  /** SIGTERM to ssh after this long, SIGKILL 2 s later. */
  timeoutMs?: number;
  /** Written to the remote command's stdin, which is closed afterwards. */
  input?: string;
}

export interface SshExecResult {
  /** The remote command's exit status. */
  code: number;
  stdout: string;
  stderr: string;
}

const KILL_GRACE_MS = 2_000;
const STDERR_TAIL_LINES = 10;

/**
 * Runs `command` (argv, quoted for the remote shell) on `target` with the system `ssh`, without
 * a terminal. Resolves with the remote exit status and output for any status. Rejects with
 * VM_HOST_KEY_MISMATCH when the guest's host key is not the pinned one, VM_SSH_UNAVAILABLE when
 * ssh cannot connect or log in, SUBPROCESS_FAILED on timeout, HOST_MISSING_TOOL without `ssh`.
 * A remote command that exits 255 and prints an ssh-like error is taken for an ssh failure.
 */
export async function sshExec(
  target: SshTarget,
  command: readonly string[],
  opts: SshExecOptions = {},
): Promise<SshExecResult> {
  const args = sshArgs(target, { command });
  const result = await spawnSsh(args, opts);
  if (result.code === 255) throwIfSshFailed(target, result.stderr);
  return result;
}

function spawnSsh(args: string[], opts: SshExecOptions): Promise<SshExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");

    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS).unref();
          }, opts.timeoutMs);

    child.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(spawnError(err));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== null && !timedOut) return resolve({ code, stdout, stderr });
      const how = timedOut ? `timed out after ${opts.timeoutMs} ms` : `killed by ${signal}`;
      const tail = tailLines(stderr, STDERR_TAIL_LINES);
      const line = formatCommand("ssh", args);
      reject(new BangerError("SUBPROCESS_FAILED", `${line}: ${how}${tail ? `\n${tail}` : ""}`));
    });
  });
}

function spawnError(err: NodeJS.ErrnoException): Error {
  if (err.code !== "ENOENT") return err;
  return new BangerError("HOST_MISSING_TOOL", `cannot run "ssh": not found on PATH`, {
    hint: "install the OpenSSH client (`apt-get install openssh-client`), then `banger doctor`",
    cause: err,
  });
}

const CLOSE_MASTER_TIMEOUT_MS = 3_000;

/**
 * Closes the shared connection at `controlPath` if one is open (VM stopped or deleted). Best
 * effort: an idle connection also closes itself, and one to a dead VM times out.
 */
export async function closeSshMaster(controlPath: string): Promise<void> {
  if (!existsSync(controlPath)) return;
  await spawnSsh(closeMasterArgs(controlPath), { timeoutMs: CLOSE_MASTER_TIMEOUT_MS }).catch(
    () => undefined,
  );
}

/**
 * True when a shared connection answers at `controlPath`: a command over it needs no new
 * handshake, so there is no point waiting for the guest's sshd banner first.
 */
export function sshMasterOpen(controlPath: string): Promise<boolean> {
  if (!usableControlPath(controlPath) || !existsSync(controlPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect(controlPath);
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
