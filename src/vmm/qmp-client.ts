// A small QMP client: newline-delimited JSON over qemu's control socket. Every wait is bounded;
// asynchronous events are ignored, replies are matched to commands by id.
import net from "node:net";
import { BangerError } from "../errors/index.js";

/** Default bound for connecting, the greeting, and each command. */
export const QMP_TIMEOUT_MS = 3000;

/** qemu's replies are small; a line this long means the peer is not QMP. */
const MAX_LINE_BYTES = 1 << 20;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

type QmpMessage =
  | { QMP: unknown }
  | { id?: unknown; return: unknown }
  | { id?: unknown; error: { class?: unknown; desc?: unknown } }
  | { event: unknown };

function qmpError(socketPath: string, why: string, cause?: unknown): BangerError {
  return new BangerError("VMM_FAILED", `QMP on "${socketPath}": ${why}`, {
    hint: "check that the VM is running with `banger vm show <name>`",
    cause,
  });
}

/** One QMP session; owns the socket until `close()`. */
export class QmpClient {
  private readonly pending = new Map<number, Pending>();
  private buffer = "";
  private nextId = 1;
  private greeted: Pending | undefined;
  private failure: Error | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly socketPath: string,
  ) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.onData(chunk));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      this.fail(qmpError(socketPath, `cannot talk to qemu: ${err.code ?? err.message}`, err));
    });
    socket.on("close", () => this.fail(qmpError(socketPath, "connection closed")));
  }

  /** Connects, reads the greeting and negotiates capabilities, all within `timeoutMs`. */
  static async connect(socketPath: string, timeoutMs = QMP_TIMEOUT_MS): Promise<QmpClient> {
    const socket = net.createConnection({ path: socketPath });
    const client = new QmpClient(socket, socketPath);
    try {
      await client.waitForGreeting(timeoutMs);
      await client.execute("qmp_capabilities", undefined, timeoutMs);
      return client;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  /** Runs `command` and resolves with its `return` value; rejects with VMM_FAILED. */
  execute(command: string, args?: object, timeoutMs = QMP_TIMEOUT_MS): Promise<unknown> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(qmpError(this.socketPath, `"${command}" got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const message =
        args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      this.socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
    this.fail(qmpError(this.socketPath, "connection closed"));
  }

  private waitForGreeting(timeoutMs: number): Promise<unknown> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.greeted = undefined;
        reject(qmpError(this.socketPath, `no greeting within ${timeoutMs} ms`));
      }, timeoutMs);
      this.greeted = { resolve, reject, timer };
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    if (this.buffer.length > MAX_LINE_BYTES) {
      this.socket.destroy();
      this.fail(qmpError(this.socketPath, `reply longer than ${MAX_LINE_BYTES} bytes`));
      return;
    }
    let newline: number;
    while ((newline = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (line !== "") this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let message: QmpMessage;
    try {
      message = JSON.parse(line) as QmpMessage;
    } catch (err) {
      this.fail(qmpError(this.socketPath, `not JSON: ${JSON.stringify(line.slice(0, 80))}`, err));
      return;
    }
    if (typeof message !== "object" || message === null) return;
    if ("QMP" in message) return this.settleGreeting();
    if ("return" in message) return this.settle(message.id, (p) => p.resolve(message.return));
    if ("error" in message) {
      const desc = typeof message.error.desc === "string" ? message.error.desc : "unknown error";
      return this.settle(message.id, (p) => p.reject(qmpError(this.socketPath, desc)));
    }
  }

  private settleGreeting(): void {
    const greeted = this.greeted;
    this.greeted = undefined;
    if (greeted === undefined) return;
    clearTimeout(greeted.timer);
    greeted.resolve(undefined);
  }

  private settle(id: unknown, how: (p: Pending) => void): void {
    if (typeof id !== "number") return;
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    how(pending);
  }

  private fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    for (const p of [...this.pending.values(), ...(this.greeted ? [this.greeted] : [])]) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.greeted = undefined;
  }
}

/** Connects, runs one command, and closes; each of the three steps is bounded by `timeoutMs`. */
export async function qmpExecute(
  socketPath: string,
  command: string,
  args?: object,
  timeoutMs = QMP_TIMEOUT_MS,
): Promise<unknown> {
  const client = await QmpClient.connect(socketPath, timeoutMs);
  try {
    return await client.execute(command, args, timeoutMs);
  } finally {
    client.close();
  }
}
