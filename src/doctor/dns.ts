// Private: the doctor row for banger's `.vm` DNS on the loopback port.
import dgram from "node:dgram";
import { randomBytes } from "node:crypto";
import net from "node:net";
import dnsPacket from "dns-packet";
import type { CheckResult } from "./checks.js";

const PROBE_TIMEOUT_MS = 1500;
const LOOPBACK = "127.0.0.1";

/**
 * Asks 127.0.0.1:`port` for a random `.vm` name: banger's server answers NXDOMAIN with
 * authority and its `ns.vm` SOA (PASS). Silence or another answer is a WARN saying whether the
 * port is free (no daemon) or held by another program. Never throws.
 */
export async function dnsCheck(port: number): Promise<CheckResult> {
  const name = "dns";
  const where = `${LOOPBACK}:${port}`;
  const reply = await ask(port, `doctor-${randomBytes(4).toString("hex")}.vm`);
  if (reply !== undefined && isBangerReply(reply)) {
    return { name, status: "PASS", detail: `banger answers .vm on ${where}` };
  }
  if (await portIsFree(port)) {
    return {
      name,
      status: "WARN",
      detail: `nothing serves .vm on ${where}`,
      fix: "the daemon serves it once it runs: banger vm list",
    };
  }
  return {
    name,
    status: "WARN",
    detail: `port ${port} is taken by another program; .vm names do not resolve on ${where}`,
    fix: `free it (ss -lunpt 'sport = :${port}') or set [dns] port in the config, then restart bangerd`,
  };
}

function isBangerReply(reply: Buffer): boolean {
  try {
    const packet = dnsPacket.decode(reply) as dnsPacket.DecodedPacket & { rcode?: string };
    const soa = packet.authorities?.[0];
    const authoritative = ((packet.flags ?? 0) & dnsPacket.AUTHORITATIVE_ANSWER) !== 0;
    return (
      authoritative &&
      packet.rcode === "NXDOMAIN" &&
      soa?.type === "SOA" &&
      soa.data.mname === "ns.vm"
    );
  } catch {
    return false;
  }
}

function ask(port: number, name: string): Promise<Buffer | undefined> {
  const socket = dgram.createSocket("udp4");
  const query = dnsPacket.encode({
    id: randomBytes(2).readUInt16BE(0),
    type: "query",
    questions: [{ name, type: "A", class: "IN" }],
  });
  return new Promise((resolve) => {
    const finish = (reply: Buffer | undefined): void => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined), PROBE_TIMEOUT_MS);
    socket.on("error", () => finish(undefined));
    socket.on("message", (msg) => finish(msg));
    socket.send(query, port, LOOPBACK);
  });
}

async function portIsFree(port: number): Promise<boolean> {
  return (await udpPortIsFree(port)) && (await tcpPortIsFree(port));
}

function tcpPortIsFree(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen({ host: LOOPBACK, port, exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
}

function udpPortIsFree(port: number): Promise<boolean> {
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve) => {
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, LOOPBACK, () => socket.close(() => resolve(true)));
  });
}
