// Private: sends names outside the zone to the upstream servers over UDP, one socket and one
// fresh random id per query, so a slow or silent upstream delays only its own query.
import { randomInt } from "node:crypto";
import dgram from "node:dgram";
import dnsPacket from "dns-packet";
import type { Question } from "dns-packet";
import type { Logger } from "../log/index.js";
import { canonicalAddress, type Upstream } from "./upstreams.js";

// TODO(dns): a truncated (TC) upstream reply is passed on as is, even to a TCP client, which
// then has no way to get the full answer — retry such queries over TCP to the upstream.

/** Beyond this many queries waiting on upstreams, new ones fail at once instead of queueing. */
export const MAX_FORWARDS_IN_FLIGHT = 256;

export class Forwarder {
  private readonly inFlight = new Set<() => void>();

  constructor(
    private readonly upstreams: readonly Upstream[],
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /**
   * The upstream's reply to `query`, carrying the query's own id; undefined when no upstream
   * answered within the timeout, too many queries are in flight, or the forwarder closed.
   * Never rejects.
   */
  forward(query: Buffer, question: Question): Promise<Buffer | undefined> {
    if (this.inFlight.size >= MAX_FORWARDS_IN_FLIGHT || this.upstreams.length === 0) {
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const cancel = startForward(query, question, this.upstreams, this.timeoutMs, (reply) => {
        this.inFlight.delete(cancel);
        if (reply === undefined) this.logger.debug({ name: question.name }, "upstream timeout");
        resolve(reply);
      });
      this.inFlight.add(cancel);
    });
  }

  /** Ends every query in flight (they resolve undefined); idempotent. */
  close(): void {
    for (const cancel of [...this.inFlight]) cancel();
  }
}

/**
 * Tries the upstreams in order, the next one after an equal share of the timeout while the
 * earlier ones may still answer; returns a function that ends the attempt early.
 */
function startForward(
  query: Buffer,
  question: Question,
  upstreams: readonly Upstream[],
  timeoutMs: number,
  done: (reply: Buffer | undefined) => void,
): () => void {
  const clientId = query.readUInt16BE(0);
  const upstreamId = randomInt(0, 0x10000);
  const outgoing = Buffer.from(query);
  outgoing.writeUInt16BE(upstreamId, 0);

  const sockets = new Map<4 | 6, dgram.Socket>();
  const timers: NodeJS.Timeout[] = [];
  let finished = false;
  const finish = (reply: Buffer | undefined): void => {
    if (finished) return;
    finished = true;
    timers.forEach(clearTimeout);
    sockets.forEach((s) => s.close());
    done(reply);
  };

  const onMessage = (msg: Buffer, from: dgram.RemoteInfo): void => {
    if (!upstreams.some((u) => sameEndpoint(u, from))) return;
    if (!isReplyTo(msg, upstreamId, question)) return;
    const reply = Buffer.from(msg);
    reply.writeUInt16BE(clientId, 0);
    finish(reply);
  };
  const socketFor = (family: 4 | 6): dgram.Socket => {
    const existing = sockets.get(family);
    if (existing !== undefined) return existing;
    const socket = dgram.createSocket(family === 4 ? "udp4" : "udp6");
    // Send errors (no route, unreachable) just leave the next upstream or the deadline to act.
    socket.on("error", () => undefined);
    socket.on("message", onMessage);
    sockets.set(family, socket);
    return socket;
  };

  const stepMs = timeoutMs / upstreams.length;
  upstreams.forEach((u, i) => {
    const send = (): void => {
      if (!finished) socketFor(u.family).send(outgoing, u.port, u.host, () => undefined);
    };
    if (i === 0) send();
    else timers.push(setTimeout(send, stepMs * i));
  });
  timers.push(setTimeout(() => finish(undefined), timeoutMs));
  return () => finish(undefined);
}

function sameEndpoint(upstream: Upstream, from: dgram.RemoteInfo): boolean {
  return upstream.port === from.port && upstream.host === canonicalAddress(from.address);
}

// A reply must carry our random id and repeat our question: anything else is stale or spoofed.
function isReplyTo(msg: Buffer, id: number, question: Question): boolean {
  if (msg.length < 12 || msg.readUInt16BE(0) !== id) return false;
  try {
    const packet = dnsPacket.decode(msg);
    const q = packet.questions?.[0];
    return (
      packet.type === "response" &&
      packet.questions?.length === 1 &&
      q !== undefined &&
      q.name.toLowerCase() === question.name.toLowerCase() &&
      q.type === question.type &&
      q.class === question.class
    );
  } catch {
    return false;
  }
}
