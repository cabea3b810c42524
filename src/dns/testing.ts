// Private to the tests: a minimal DNS client over real UDP and TCP sockets, and a fake
// upstream server that answers, stays silent, or answers with the wrong id.
import dgram from "node:dgram";
import net from "node:net";
import dnsPacket from "dns-packet";
import type { DecodedPacket, Packet, Question } from "dns-packet";
import type { DnsRecords } from "./types.js";

export const TEST_RECORDS: DnsRecords = recordsOf({ sandbox: "172.16.0.2", "web-1": "172.16.0.3" });

export function recordsOf(table: Record<string, string>): DnsRecords {
  const names = new Map(Object.entries(table));
  return {
    lookup: (name) => names.get(name),
    reverse: (ipv4) => [...names].find(([, ip]) => ip === ipv4)?.[0],
  };
}

export function query(name: string, type = "A", extra: Partial<Packet> = {}): Buffer {
  const question = { name, type, class: "IN" } as Question;
  return dnsPacket.encode({
    id: 0x1234,
    type: "query",
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [question],
    ...extra,
  });
}

/** The raw reply to one datagram, or undefined when none came within `timeoutMs`. */
export function sendUdp(port: number, msg: Buffer, timeoutMs = 1000): Promise<Buffer | undefined> {
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const finish = (reply: Buffer | undefined): void => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    socket.on("message", (reply) => finish(reply));
    socket.send(msg, port, "127.0.0.1");
  });
}

/** A decoded reply; dns-packet's decoder also sets `rcode`, which its types leave out. */
export type Reply = DecodedPacket & { rcode: string };

export async function askUdp(port: number, msg: Buffer, timeoutMs = 1000): Promise<Reply> {
  const reply = await sendUdp(port, msg, timeoutMs);
  if (reply === undefined) throw new Error(`no UDP reply within ${timeoutMs} ms`);
  return dnsPacket.decode(reply) as Reply;
}

/** Sends all `msgs` on one connection and collects `expected` framed replies. */
export function askTcp(port: number, msgs: Buffer[], expected = msgs.length): Promise<Buffer[]> {
  const socket = net.connect(port, "127.0.0.1");
  const replies: Buffer[] = [];
  let buffered = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => finish(new Error("TCP replies timed out")), 3000);
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(replies);
    };
    socket.on("error", finish);
    socket.on("close", () => finish(new Error(`closed after ${replies.length} replies`)));
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        replies.push(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
      }
      if (replies.length >= expected) finish();
    });
    socket.write(Buffer.concat(msgs.map(frame)));
  });
}

export function frame(msg: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(msg.length);
  return Buffer.concat([length, msg]);
}

export type UpstreamBehaviour = "answer" | "silent" | "wrong-id";

export interface FakeUpstream {
  port: number;
  /** Queries received so far. */
  received: DecodedPacket[];
  close(): Promise<void>;
}

/** A UDP DNS server on 127.0.0.1 that answers every A question with 192.0.2.1. */
export async function startFakeUpstream(behaviour: UpstreamBehaviour): Promise<FakeUpstream> {
  const socket = dgram.createSocket("udp4");
  const received: DecodedPacket[] = [];
  socket.on("message", (msg, from) => {
    const asked = dnsPacket.decode(msg);
    received.push(asked);
    if (behaviour === "silent") return;
    const id = behaviour === "wrong-id" ? ((asked.id ?? 0) + 1) & 0xffff : asked.id;
    const questions = asked.questions ?? [];
    const name = questions[0]?.name ?? "";
    const reply = dnsPacket.encode({
      id,
      type: "response",
      flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED,
      questions,
      answers: [{ type: "A", name, ttl: 60, data: "192.0.2.1" }],
    });
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  const close = (): Promise<void> => new Promise((resolve) => socket.close(() => resolve()));
  return { port, received, close };
}

/** The rcode of a raw reply: the low four bits of the flags word. */
export function rcodeOf(reply: Buffer): number {
  return reply.readUInt16BE(2) & 0xf;
}
