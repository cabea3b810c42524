// Private: a child process whose output is kept as bytes, since patches, packs and file names
// are not text, and which a signal or a byte limit stops.
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { BangerError } from "../errors/index.js";
import { formatCommand, tailLines } from "../host/index.js";

export interface ChildOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is closed afterwards; a stream is piped. */
  input?: string | Buffer | Readable;
  /** Keep stdout in memory (otherwise it is left for the caller to read). */
  collectStdout?: boolean;
  maxStdoutBytes?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** Why banger stopped it, if it did. */
  stoppedFor: "timeout" | "abort" | "overflow" | null;
}

export interface RunningChild {
  child: ChildProcess;
  exited: Promise<ChildExit>;
}

const KILL_GRACE_MS = 2_000;
const MAX_STDERR_CHARS = 64 * 1024;

/** Starts `cmd` with an argument array. Rejects `exited` only when it cannot be spawned. */
export function startChild(cmd: string, args: readonly string[], opts: ChildOptions): RunningChild {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stoppedFor: ChildExit["stoppedFor"] = null;
  const stop = (why: NonNullable<ChildExit["stoppedFor"]>): void => {
    stoppedFor ??= why;
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS).unref();
  };

  const chunks: Buffer[] = [];
  let stdoutBytes = 0;
  if (opts.collectStdout === true) {
    child.stdout.on("data", (c: Buffer) => {
      stdoutBytes += c.length;
      if (opts.maxStdoutBytes !== undefined && stdoutBytes > opts.maxStdoutBytes) stop("overflow");
      else chunks.push(c);
    });
  }
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    // Only the tail is ever shown, and a hostile guest could send without end.
    stderr = (stderr + c).slice(-MAX_STDERR_CHARS);
  });
  feedInput(child, opts.input);

  const timer =
    opts.timeoutMs === undefined ? undefined : setTimeout(() => stop("timeout"), opts.timeoutMs);
  const onAbort = (): void => stop("abort");
  if (opts.signal?.aborted === true) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  const exited = new Promise<ChildExit>((resolve, reject) => {
    child.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      reject(spawnError(cmd, err));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      resolve({ code, signal, stdout: Buffer.concat(chunks), stderr, stoppedFor });
    });
  });
  return { child, exited };
}

function feedInput(child: ChildProcess, input: ChildOptions["input"]): void {
  const stdin = child.stdin;
  if (stdin === null) return;
  // EPIPE when the child exits before reading everything; its exit status tells the story.
  stdin.on("error", () => undefined);
  if (input === undefined || typeof input === "string" || Buffer.isBuffer(input)) {
    stdin.end(input ?? "");
    return;
  }
  input.on("error", () => stdin.destroy());
  input.pipe(stdin);
}

function spawnError(cmd: string, err: NodeJS.ErrnoException): Error {
  if (err.code !== "ENOENT") return err;
  return new BangerError("HOST_MISSING_TOOL", `cannot run "${cmd}": not found on PATH`, {
    hint: "run ./install.sh or `banger doctor` to see what is missing",
    cause: err,
  });
}

/**
 * Throws unless the child exited 0: INTERRUPTED when the signal stopped it, SUBPROCESS_FAILED
 * naming the command line, the exit status or the reason, and the tail of stderr.
 */
export function checkExit(cmd: string, args: readonly string[], exit: ChildExit): void {
  if (exit.code === 0 && exit.stoppedFor === null) return;
  const line = formatCommand(cmd, args);
  if (exit.stoppedFor === "abort") throw new BangerError("INTERRUPTED", `${line}: interrupted`);
  const tail = tailLines(exit.stderr, 10);
  throw new BangerError(
    "SUBPROCESS_FAILED",
    `${line}: ${describeExit(exit)}${tail ? `\n${tail}` : ""}`,
  );
}

/** How a child ended, for messages: `exited with status 2`, `killed by SIGKILL`, ... */
export function describeExit(exit: ChildExit): string {
  if (exit.stoppedFor === "timeout") return "timed out";
  if (exit.stoppedFor === "overflow") return "sent more output than allowed";
  if (exit.stoppedFor === "abort") return "interrupted";
  if (exit.signal !== null) return `killed by ${exit.signal}`;
  return `exited with status ${exit.code}`;
}
