// Private: which servers names outside the zone are forwarded to, from resolv.conf or config.
import { isIP } from "node:net";
import { BangerError } from "../errors/index.js";

export interface Upstream {
  host: string;
  port: number;
  family: 4 | 6;
}

const DNS_PORT = 53;

/** The `nameserver` addresses of resolv.conf text, in order, without loopback or duplicates. */
export function readUpstreams(resolvConfText: string): string[] {
  const out: string[] = [];
  for (const line of resolvConfText.split("\n")) {
    const [keyword, address] = line.trim().split(/\s+/);
    if (keyword !== "nameserver" || address === undefined || isIP(address) === 0) continue;
    if (isLoopbackOrUnspecified(address) || out.includes(address)) continue;
    out.push(address);
  }
  return out;
}

// A loopback nameserver is a local stub (systemd-resolved's 127.0.0.53, dnsmasq, ourselves)
// that may route `.vm` back here, a forwarding loop; guests cannot reach it either.
function isLoopbackOrUnspecified(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith("127.") || address === "0.0.0.0";
  const plain = address.toLowerCase();
  return plain === "::1" || plain === "::" || plain.startsWith("::ffff:127.");
}

/** Parses "ip", "ip:port", "[v6]" or "[v6]:port"; throws INVALID_ARGUMENT otherwise. */
export function parseUpstream(text: string): Upstream {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const hostPort = /^([^:]+):(\d+)$/.exec(text);
  const [host, portText] = bracketed
    ? [bracketed[1], bracketed[2]]
    : hostPort
      ? [hostPort[1], hostPort[2]]
      : [text, undefined];
  const family = isIP(host ?? "");
  const port = portText === undefined ? DNS_PORT : Number(portText);
  if (host === undefined || family === 0 || !(port >= 1 && port <= 65535)) {
    throw new BangerError(
      "INVALID_ARGUMENT",
      `cannot use upstream DNS server "${text}": expected "ip" or "ip:port"`,
      { hint: 'Give an address such as "192.0.2.53" or "192.0.2.53:5353".' },
    );
  }
  return { host: canonicalAddress(host), port, family: family === 4 ? 4 : 6 };
}

/** IPv6 text has many spellings; compare the WHATWG URL parser's canonical one. */
export function canonicalAddress(address: string): string {
  if (!address.includes(":")) return address;
  return new URL(`http://[${address.replace(/%.*$/, "")}]`).hostname.slice(1, -1);
}
