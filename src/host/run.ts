import { spawn } from "node:child_process";
import { BangerError } from "../errors/index.js";
import { which } from "./which.js";

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is closed afterwards. */
  input?: string | Buffer;
  /** SIGTERM after this long, SIGKILL 2 s later. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with each chunk of stderr as it arrives (for progress). */
  onStderr?: (chunk: string) => void;
  onStdout?: (chunk: string) => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

const KILL_GRACE_MS = 2000;
const STDERR_TAIL_LINES = 20;

/** The command line as a user could paste it, for error messages. */
export function formatCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w./:=@%+,-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
}

/** The last `n` non-empty lines of `text`. */
export function tailLines(text: string, n: number): string {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-n)
    .join("\n");
}

/**
 * Runs `cmd` with an argument array (never a shell) and resolves with its output. Rejects with
 * SUBPROCESS_FAILED naming the command line, its exit code or signal and the tail of stderr;
 * with HOST_MISSING_TOOL when the binary does not exist; with INTERRUPTED when `signal` aborts.
 */
export async function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  // Resolve like `which` (PATH plus the sbin dirs), so that a tool doctor reports as present
  // also runs when the daemon was started with a PATH that lacks /usr/sbin.
  const binary = cmd.includes("/") ? cmd : ((await which(cmd)) ?? cmd);
  return spawnAndWait(cmd, binary, args, opts);
}

function spawnAndWait(
  cmd: string,
  binary: string,
  args: readonly string[],
  opts: RunOptions,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let aborted = false;
    child.stdout?.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      opts.onStdout?.(c);
    });
    child.stderr?.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      opts.onStderr?.(c);
    });
    if (opts.input !== undefined) {
      child.stdin?.on("error", () => {});
      child.stdin?.end(opts.input);
    }

    const stop = (): void => {
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS).unref();
    };
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            stop();
          }, opts.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    child.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (err.code === "ENOENT") {
        reject(
          new BangerError("HOST_MISSING_TOOL", `cannot run "${cmd}": not found on PATH`, {
            hint: "run ./install.sh or `banger doctor` to see what is missing",
            cause: err,
          }),
        );
      } else {
        reject(err);
      }
    });
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (code === 0) return resolve({ stdout, stderr });
      const line = formatCommand(cmd, args);
      if (aborted) return reject(new BangerError("INTERRUPTED", `${line}: interrupted`));
      const how = timedOut
        ? `timed out after ${opts.timeoutMs} ms`
        : sig !== null
          ? `killed by ${sig}`
          : `exited with status ${code}`;
      const tail = tailLines(stderr, STDERR_TAIL_LINES);
      reject(new BangerError("SUBPROCESS_FAILED", `${line}: ${how}${tail ? `\n${tail}` : ""}`));
    });
  });
}
