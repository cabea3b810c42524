// The daemon's `.vm` DNS: a loopback listener for the host, a bridge listener for the guests
// (forwarding other names upstream), and the systemd-resolved route to the latter.
import { readFile } from "node:fs/promises";
import type { Config } from "../config/index.js";
import { readUpstreams, startDnsServer, type DnsRecords, type DnsServer } from "../dns/index.js";
import { isBangerError, isErrno } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { parseBridgeCidr } from "../net/index.js";
import type { Store } from "../store/index.js";
import { hasResolved, routeArgv, runResolvectl, unrouteArgv } from "./resolved.js";

const LOOPBACK = "127.0.0.1";
const BRIDGE_DNS_PORT = 53;
const RESOLV_CONF_PATHS = ["/run/systemd/resolve/resolv.conf", "/etc/resolv.conf"];

/**
 * Names and reverse names of the VMs holding a lease, read from the store at every query, so
 * answers follow the VM lifecycle and need no rebuilding when the daemon starts.
 */
export function storeRecords(store: Store): DnsRecords {
  return {
    lookup(name) {
      const vm = store.getVmByName(name);
      return vm === undefined ? undefined : store.addressOf(vm.id);
    },
    reverse(ipv4) {
      const id = store.leases().get(ipv4);
      return id === undefined ? undefined : store.getVm(id)?.name;
    },
  };
}

export interface DnsServiceOptions {
  config: Config;
  store: Store;
  logger: Logger;
}

/** Owns the daemon's DNS sockets; `close()` stops them and undoes the resolved route. */
export class DnsService {
  private loopback: DnsServer | undefined;
  private bridge: DnsServer | undefined;
  private bridgeStarting: Promise<void> | undefined;
  private routed = false;
  private readonly records: DnsRecords;

  constructor(private readonly opts: DnsServiceOptions) {
    this.records = storeRecords(opts.store);
  }

  /**
   * Answers `.vm` on 127.0.0.1:<[dns] port>, refusing other zones. A taken port is logged and
   * left to `banger doctor`; the daemon runs on without it. Never throws.
   */
  async startLoopback(): Promise<void> {
    const port = this.opts.config.dns.port;
    try {
      this.loopback = await startDnsServer({
        host: LOOPBACK,
        port,
        records: this.records,
        logger: this.opts.logger,
      });
    } catch (err) {
      this.opts.logger.error({ err, op: "dns", port }, "cannot serve .vm DNS on loopback");
    }
  }

  /**
   * Answers guests on `<bridge address>:53`, forwarding other names to the host's resolvers,
   * and routes `~vm` there through systemd-resolved when it runs. Idempotent and safe to call
   * at every boot; before the bridge exists it does nothing. Never throws.
   */
  ensureBridgeListener(): Promise<void> {
    if (this.bridge !== undefined) return Promise.resolve();
    this.bridgeStarting ??= this.startBridge().finally(() => (this.bridgeStarting = undefined));
    return this.bridgeStarting;
  }

  private async startBridge(): Promise<void> {
    const { bridge, cidr } = this.opts.config.network;
    const host = parseBridgeCidr(cidr).gateway;
    try {
      const upstreams = this.opts.config.dns.upstreams ?? (await hostUpstreams());
      this.bridge = await startDnsServer({
        host,
        port: BRIDGE_DNS_PORT,
        records: this.records,
        upstreams,
        logger: this.opts.logger,
      });
    } catch (err) {
      // Before the first boot the bridge and its address do not exist yet.
      const early = isBangerError(err, "NETWORK_SETUP_FAILED") && /no interface/.test(err.message);
      const level = early ? "debug" : "error";
      this.opts.logger[level]({ err, op: "dns", host }, "cannot serve DNS on the bridge");
      return;
    }
    if (await hasResolved()) {
      this.routed = await runResolvectl(routeArgv(bridge, host), this.opts.logger);
    }
  }

  /** Where the loopback listener answers, or undefined when its port was taken. */
  get loopbackAddress(): { host: string; port: number } | undefined {
    return this.loopback?.address;
  }

  /** Stops both listeners and reverts the resolved route. Idempotent. */
  async close(): Promise<void> {
    await this.bridgeStarting;
    if (this.routed) {
      this.routed = false;
      await runResolvectl(unrouteArgv(this.opts.config.network.bridge), this.opts.logger);
    }
    await Promise.all([this.loopback?.close(), this.bridge?.close()]);
  }
}

/** The host's real resolvers; on systemd-resolved hosts its upstream list, not the stub. */
async function hostUpstreams(): Promise<string[]> {
  for (const file of RESOLV_CONF_PATHS) {
    try {
      return readUpstreams(await readFile(file, "utf8"));
    } catch (err) {
      if (!isErrno(err, "ENOENT")) throw err;
    }
  }
  return [];
}
