// Talks to one VM's guest agent over the unix socket its VMM serves (one connection at a time):
// lazy connect, one request in flight, a deadline per call, reconnect after any failure.
import net from "node:net";
import { BangerError } from "../errors/index.js";
import {
  encodeAgentRequest,
  parseAgentReply,
  parseAgentResult,
  type AgentHealth,
  type AgentMethod,
  type AgentPort,
  type AgentReply,
  type AgentResults,
  type AgentStats,
} from "./agent-protocol.js";

export interface AgentClientOptions {
  /** The host end of the agent's channel (QEMU's chardev socket). */
  socketPath: string;
  /** Named in every error message. */
  vmName: string;
  /** Deadline of each call, connecting included; 2000 ms by default. */
  timeoutMs?: number;
  /** Longest reply line accepted; 4 MiB by default. */
  maxReplyBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_MAX_REPLY_BYTES = 4 * 1024 * 1024;

interface Pending {
  id: number;
  method: AgentMethod;
  resolve: (reply: AgentReply) => void;
  reject: (err: unknown) => void;
}

/**
 * A connection to one guest agent. Calls are queued and run one at a time; each rejects with
 * AGENT_TIMEOUT after `timeoutMs`, AGENT_UNAVAILABLE when the socket cannot be reached or
 * closes, AGENT_PROTOCOL on a garbled reply, AGENT_VERSION_MISMATCH, or AGENT_REQUEST_FAILED
 * when the agent answers with an error. After any failure the next call reconnects.
 */
export class AgentClient {
  private readonly socketPath: string;
  private readonly vmName: string;
  private readonly timeoutMs: number;
  private readonly maxReplyBytes: number;
  private socket: net.Socket | undefined;
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private closed = false;

  constructor(opts: AgentClientOptions) {
    this.socketPath = opts.socketPath;
    this.vmName = opts.vmName;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxReplyBytes = opts.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
  }

  /** Versions, boot id, uptime and systemd's state (null without systemd). */
  health(): Promise<AgentHealth> {
    return this.call("health");
  }

  /** Listening TCP and unconnected UDP sockets, IPv4 and IPv6, with their process if found. */
  async ports(): Promise<AgentPort[]> {
    return (await this.call("ports")).ports;
  }

  /** Memory, load, CPU count and the space of `/` and `/root`. */
  stats(): Promise<AgentStats> {
    return this.call("stats");
  }

  /** Resolves once the agent has accepted; the guest then syncs and powers off. */
  async poweroff(): Promise<void> {
    await this.call("poweroff");
  }

  /** Drops the connection and fails queued calls with AGENT_UNAVAILABLE. Idempotent. */
  close(): void {
    this.closed = true;
    this.drop(this.unavailable("the client was closed"));
  }

  private call<M extends AgentMethod>(method: M): Promise<AgentResults[M]> {
    const run = this.queue.then(() => this.request(method));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async request<M extends AgentMethod>(method: M): Promise<AgentResults[M]> {
    if (this.closed) throw this.unavailable("the client was closed");
    const id = this.nextId++;
    const timer = setTimeout(() => this.drop(this.timeout(method)), this.timeoutMs);
    try {
      const reply = await new Promise<AgentReply>((resolve, reject) => {
        this.pending = { id, method, resolve, reject };
        this.send(id, method);
      });
      if (!reply.ok) throw this.refused(method, reply.error);
      return this.parseResult(method, reply.result);
    } finally {
      clearTimeout(timer);
      this.pending = undefined;
    }
  }

  private send(id: number, method: AgentMethod): void {
    const line = encodeAgentRequest(id, method);
    if (this.socket !== undefined) {
      this.socket.write(line);
      return;
    }
    const socket = net.createConnection(this.socketPath);
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.onData(socket, chunk));
    socket.on("error", (err) => this.onClosed(socket, err));
    socket.on("close", () => this.onClosed(socket, undefined));
    socket.write(line);
  }

  private onClosed(socket: net.Socket, err: Error | undefined): void {
    if (socket !== this.socket) return;
    const why =
      err === undefined ? "the connection closed" : `"${this.socketPath}": ${err.message}`;
    this.drop(this.unavailable(why, err));
  }

  private onData(socket: net.Socket, chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.chunks.push(chunk.subarray(start, nl));
      const line = Buffer.concat(this.chunks).toString("utf8");
      this.chunks = [];
      this.bufferedBytes = 0;
      start = nl + 1;
      this.onLine(line);
      if (socket !== this.socket) return;
    }
    this.chunks.push(chunk.subarray(start));
    this.bufferedBytes += chunk.length - start;
    if (this.bufferedBytes > this.maxReplyBytes) {
      this.drop(this.garbled(`a reply is longer than ${this.maxReplyBytes} bytes`));
    }
  }

  // Lines for other ids are late answers to calls that already timed out: skip them.
  private onLine(line: string): void {
    const pending = this.pending;
    if (pending === undefined) return;
    let reply: AgentReply;
    try {
      reply = parseAgentReply(line);
    } catch (err) {
      this.drop(this.naming(err));
      return;
    }
    if (reply.id === pending.id || (reply.id === null && !reply.ok)) pending.resolve(reply);
  }

  /** Forgets the connection (the next call reconnects) and fails the call in flight. */
  private drop(err: unknown): void {
    const socket = this.socket;
    this.socket = undefined;
    this.chunks = [];
    this.bufferedBytes = 0;
    socket?.destroy();
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }

  private parseResult<M extends AgentMethod>(method: M, result: unknown): AgentResults[M] {
    try {
      return parseAgentResult(method, result);
    } catch (err) {
      throw this.naming(err);
    }
  }

  // The protocol parsers cannot know which VM they read; add it for the user.
  private naming(err: unknown): unknown {
    if (!(err instanceof BangerError)) return err;
    return new BangerError(err.code, `guest agent of VM "${this.vmName}": ${err.message}`, {
      hint: err.hint ?? `see the guest's console: banger vm logs ${this.vmName}`,
      cause: err,
    });
  }

  private unavailable(why: string, cause?: unknown): BangerError {
    return new BangerError(
      "AGENT_UNAVAILABLE",
      `cannot reach the guest agent of VM "${this.vmName}": ${why}`,
      { hint: `check that the VM is running: banger vm show ${this.vmName}`, cause },
    );
  }

  private timeout(method: AgentMethod): BangerError {
    return new BangerError(
      "AGENT_TIMEOUT",
      `guest agent of VM "${this.vmName}" did not answer "${method}" within ${this.timeoutMs} ms`,
      { hint: `see whether the guest booted: banger vm logs ${this.vmName}` },
    );
  }

  private garbled(why: string): BangerError {
    return new BangerError(
      "AGENT_PROTOCOL",
      `cannot read the guest agent of VM "${this.vmName}": ${why}`,
      { hint: `see the guest's console: banger vm logs ${this.vmName}` },
    );
  }

  private refused(method: AgentMethod, error: { code: string; message: string }): BangerError {
    const what = `guest agent of VM "${this.vmName}" refused "${method}"`;
    const hint = "rebuild the image so its agent matches this banger: `banger image list`";
    if (error.code === "version_mismatch") {
      return new BangerError("AGENT_VERSION_MISMATCH", `${what}: ${error.message}`, { hint });
    }
    return new BangerError("AGENT_REQUEST_FAILED", `${what}: ${error.code}: ${error.message}`, {
      hint: `see the guest's console: banger vm logs ${this.vmName}`,
    });
  }
}
