// Private: owns the UDP socket and TCP listener of one DNS server, bound to the same port.
import dgram from "node:dgram";
import net from "node:net";
import { BangerError, isErrno } from "../errors/index.js";
import { silentLogger } from "../log/index.js";
import { Forwarder } from "./forwarder.js";
import { createResponder, type Respond } from "./responder.js";
import { serveTcpConnection } from "./tcp.js";
import type { DnsServer, DnsServerOptions } from "./types.js";
import { parseUpstream, type Upstream } from "./upstreams.js";

const DEFAULT_ZONE = "vm";
const DEFAULT_UPSTREAM_TIMEOUT_MS = 2000;
const TCP_IDLE_TIMEOUT_MS = 10_000;
const TCP_MAX_CONNECTIONS = 64;
const TCP_MAX_PENDING_QUERIES = 16;
/** Attempts to find a port free for both UDP and TCP when the caller asked for port 0. */
const PICK_PORT_ATTEMPTS = 8;

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const zone = normalizeZone(opts.zone ?? DEFAULT_ZONE);
  const logger = opts.logger ?? silentLogger();
  const upstreams = (opts.upstreams ?? []).map(parseUpstream);
  const timeoutMs = opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  if (!(timeoutMs > 0)) {
    throw new BangerError(
      "INVALID_ARGUMENT",
      `cannot start DNS server: upstream timeout ${timeoutMs} ms is not positive`,
    );
  }

  const { udp, tcp } = await bindBoth(opts.host, opts.port);
  const port = (udp.address() as net.AddressInfo).port;
  const server = new UdpTcpDnsServer(udp, tcp, { host: opts.host, port });
  if (upstreams.some((u) => u.host === opts.host && u.port === port)) {
    await server.close();
    throw new BangerError(
      "INVALID_ARGUMENT",
      `cannot start DNS server on ${opts.host}:${port}: it is its own upstream`,
      { hint: "Forward to the host's real resolvers, not to banger's DNS address." },
    );
  }

  const forwarder = upstreams.length > 0 ? new Forwarder(upstreams, timeoutMs, logger) : undefined;
  server.serve(createResponder({ records: opts.records, zone, forwarder, logger }), forwarder);
  logger.info({ host: opts.host, port, zone, upstreams: upstreams.map(show) }, "dns listening");
  return server;
}

function show(u: Upstream): string {
  return u.family === 6 ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
}

function normalizeZone(zone: string): string {
  const out = zone.toLowerCase().replace(/^\.+|\.+$/g, "");
  if (out === "") {
    throw new BangerError("INVALID_ARGUMENT", `cannot start DNS server: zone "${zone}" is empty`);
  }
  return out;
}

class UdpTcpDnsServer implements DnsServer {
  private readonly connections = new Set<net.Socket>();
  private forwarder: Forwarder | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    readonly address: { host: string; port: number },
  ) {}

  serve(respond: Respond, forwarder: Forwarder | undefined): void {
    this.forwarder = forwarder;
    this.udp.on("message", (msg, from) => {
      respond(msg, (reply) => {
        // Send failures (a spoofed port 0, a full buffer) concern that one datagram only.
        if (reply !== undefined && this.closing === undefined) {
          this.udp.send(reply, from.port, from.address, () => undefined);
        }
      });
    });
    this.tcp.maxConnections = TCP_MAX_CONNECTIONS;
    this.tcp.on("connection", (socket) => {
      this.connections.add(socket);
      socket.on("close", () => this.connections.delete(socket));
      serveTcpConnection(socket, respond, {
        idleTimeoutMs: TCP_IDLE_TIMEOUT_MS,
        maxPendingQueries: TCP_MAX_PENDING_QUERIES,
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.forwarder?.close();
    const tcpClosed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const socket of this.connections) socket.destroy();
    const udpClosed = new Promise<void>((resolve) => this.udp.close(() => resolve()));
    await Promise.all([tcpClosed, udpClosed]);
  }
}

async function bindBoth(
  host: string,
  port: number,
): Promise<{ udp: dgram.Socket; tcp: net.Server }> {
  for (let attempt = 1; ; attempt++) {
    const udp = await bindUdp(host, port);
    const bound = (udp.address() as net.AddressInfo).port;
    try {
      return { udp, tcp: await listenTcp(host, bound) };
    } catch (err) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      const retry = port === 0 && err instanceof BangerError && err.code === "DNS_PORT_IN_USE";
      if (!retry || attempt >= PICK_PORT_ATTEMPTS) throw err;
    }
  }
}

function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  const udp = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
  return new Promise((resolve, reject) => {
    udp.once("error", (err) => {
      udp.close();
      reject(bindError(err, "UDP", host, port));
    });
    udp.bind(port, host, () => {
      udp.removeAllListeners("error");
      // After binding, errors concern single datagrams; they must not crash the daemon.
      udp.on("error", () => undefined);
      resolve(udp);
    });
  });
}

function listenTcp(host: string, port: number): Promise<net.Server> {
  const tcp = net.createServer({ pauseOnConnect: false });
  return new Promise((resolve, reject) => {
    tcp.once("error", (err) => reject(bindError(err, "TCP", host, port)));
    tcp.listen({ host, port, exclusive: true }, () => {
      tcp.removeAllListeners("error");
      tcp.on("error", () => undefined);
      resolve(tcp);
    });
  });
}

function bindError(err: Error, proto: string, host: string, port: number): BangerError {
  const where = `cannot start DNS server on ${host}:${port} (${proto})`;
  if (isErrno(err, "EADDRINUSE")) {
    return new BangerError("DNS_PORT_IN_USE", `${where}: the port is already in use`, {
      hint: `Find the process holding it with: ss -lunpt 'sport = :${port}'`,
      cause: err,
    });
  }
  if (isErrno(err, "EACCES")) {
    return new BangerError("NETWORK_SETUP_FAILED", `${where}: permission denied`, {
      hint: "Ports below 1024 need root or CAP_NET_BIND_SERVICE; run bangerd as root.",
      cause: err,
    });
  }
  if (isErrno(err, "EADDRNOTAVAIL")) {
    return new BangerError("NETWORK_SETUP_FAILED", `${where}: no interface has that address`, {
      hint: "Check the bridge is up with: ip -brief addr",
      cause: err,
    });
  }
  return new BangerError("NETWORK_SETUP_FAILED", `${where}: ${err.message}`, { cause: err });
}
