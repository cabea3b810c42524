import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { BangerError } from "../errors/index.js";

export interface WaitForSshOptions {
  /** Total time allowed, in milliseconds, across all attempts. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Defaults to 22. */
  port?: number;
}

const ATTEMPT_TIMEOUT_MS = 3_000;
// A refused connect to a tap on this host costs next to nothing, and every 100 ms of pause
// is added to each `vm run`: poll at a steady, short interval.
const RETRY_MS = 150;
// RFC 4253 lets a server send other lines before its `SSH-` version line; stop looking after this.
const MAX_BANNER_BYTES = 8_192;

/**
 * Resolves once a TCP connection to `host:port` answers with an SSH version banner (`SSH-`),
 * retrying refused, reset and silent connections every 150 ms. Rejects with
 * VM_SSH_UNAVAILABLE, naming the last failure, when `timeoutMs` passes (never much later), and
 * with INTERRUPTED when `signal` aborts. Opens no SSH session.
 */
export async function waitForSsh(host: string, opts: WaitForSshOptions): Promise<void> {
  const port = opts.port ?? 22;
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = "no attempt made";

  for (;;) {
    throwIfAborted(opts.signal, host, port);
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) throw unavailable(host, port, opts.timeoutMs, lastError);

    const failure = await probe(host, port, Math.min(ATTEMPT_TIMEOUT_MS, remainingMs), opts.signal);
    if (failure === undefined) return;
    lastError = failure;

    const pause = Math.min(RETRY_MS, Math.max(0, deadline - Date.now()));
    await sleep(pause, undefined, { signal: opts.signal }).catch(() => undefined);
  }
}

/** One attempt: undefined on a banner, else why it failed. Never rejects. */
function probe(
  host: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = "";
    const finish = (failure: string | undefined): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(failure);
    };
    const onAbort = (): void => finish("interrupted");
    const timer = setTimeout(() => finish(`no SSH banner within ${timeoutMs} ms`), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });

    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (/(^|\n)SSH-/.test(received)) return finish(undefined);
      if (received.length > MAX_BANNER_BYTES) finish("the server sent no SSH banner");
    });
    socket.on("error", (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    socket.on("close", () => finish("connection closed before the SSH banner"));
  });
}

function throwIfAborted(signal: AbortSignal | undefined, host: string, port: number): void {
  if (signal?.aborted !== true) return;
  throw new BangerError("INTERRUPTED", `waiting for SSH on "${host}:${port}": interrupted`);
}

function unavailable(host: string, port: number, timeoutMs: number, why: string): BangerError {
  return new BangerError(
    "VM_SSH_UNAVAILABLE",
    `SSH on "${host}:${port}" did not answer within ${timeoutMs} ms: last attempt: ${why}`,
    { hint: "see what the guest printed with `banger vm logs <vm>`" },
  );
}
