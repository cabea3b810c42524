// The `.vm` DNS server: authoritative A and PTR answers for VM names over UDP and TCP, and
// forwarding of other names to upstream resolvers. Packets are encoded with dns-packet.
import { startDnsServer as start } from "./server.js";
import type { DnsServer, DnsServerOptions } from "./types.js";
import { readUpstreams as read } from "./upstreams.js";

export type { DnsRecords, DnsServer, DnsServerOptions } from "./types.js";

/**
 * Starts answering DNS on `opts.host:opts.port`, UDP and TCP on the same port (port 0 picks a
 * free one; see `address`). Answers, all with TTL 5 s:
 * - `<name>.<zone>` (any case): A from `records.lookup(name)`; a known name asked for another
 *   type gets NOERROR with no answer; an unknown one NXDOMAIN; both with the zone's SOA in the
 *   authority section. All zone answers carry AA.
 * - `d.c.b.a.in-addr.arpa` of an address `records.reverse` knows: PTR `<name>.<zone>`.
 * - anything else: with `upstreams` and RD set, forwarded over UDP from a fresh socket and id,
 *   SERVFAIL after `upstreamTimeoutMs` (default 2000) or when 256 forwards are in flight; a
 *   slow upstream never delays other queries. Without upstreams, or without RD: REFUSED.
 * - malformed, oversized (over 4096 bytes) or multi-question queries: a 12-byte FORMERR when
 *   the header is readable; other opcodes NOTIMP; messages with QR set or under 12 bytes:
 *   silence. No reply is larger than the query unless it decoded as one clean question.
 * TCP: 2-byte length framing, several queries per connection, at most 64 connections, closed
 * after 10 s idle. Rejects with DNS_PORT_IN_USE when the UDP or TCP port is taken,
 * NETWORK_SETUP_FAILED when the address is not local or the port needs privileges, and
 * INVALID_ARGUMENT for a malformed upstream or an upstream equal to the server itself.
 * Not idempotent: each call binds new sockets; `close()` of the result is idempotent.
 */
export function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  return start(opts);
}

/**
 * The `nameserver` addresses of resolv.conf text, in file order, deduplicated, as "ip"
 * strings for `upstreams`. Loopback and unspecified addresses (127.0.0.0/8, ::1, 0.0.0.0, ::)
 * are skipped: they are local stubs such as systemd-resolved's 127.0.0.53, which may route
 * `.vm` back to this server (a loop) and which guests cannot reach. On systemd-resolved hosts,
 * pass the text of /run/systemd/resolve/resolv.conf, which lists the real servers. Malformed
 * lines are ignored; never throws; may return an empty list.
 */
export function readUpstreams(resolvConfText: string): string[] {
  return read(resolvConfText);
}
