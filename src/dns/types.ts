// Private: the option and handle types of the DNS server, re-exported by index.ts.
import type { Logger } from "../log/index.js";

/**
 * Where the server reads names from; called once per query, synchronously, so it must be a
 * cheap in-memory lookup. A throw turns that one query into SERVFAIL.
 */
export interface DnsRecords {
  /** The IPv4 address of `name` (a VM name: no zone suffix, lowercased), or undefined. */
  lookup(name: string): string | undefined;
  /** The VM name (no zone suffix) that owns `ipv4` (dotted quad), or undefined. */
  reverse(ipv4: string): string | undefined;
}

export interface DnsServerOptions {
  /** Address to listen on, for example "127.0.0.1" or the bridge address. */
  host: string;
  /** UDP and TCP port; 0 picks a free port shared by both. */
  port: number;
  records: DnsRecords;
  /** The zone served with authority; default "vm". */
  zone?: string;
  /** "ip" or "ip:port" ("[v6]:port" for IPv6); names outside the zone go there, else REFUSED. */
  upstreams?: string[];
  /** Bound on one forwarded query, all upstreams together; default 2000, then SERVFAIL. */
  upstreamTimeoutMs?: number;
  logger?: Logger;
}

/** A running server; `close()` stops both transports and is idempotent. */
export interface DnsServer {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}
