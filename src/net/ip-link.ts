import { BangerError, isBangerError } from "../errors/index.js";
import { run } from "../host/index.js";

const IP_TIMEOUT_MS = 10_000;
const DOCTOR_HINT = "run `banger doctor` to check the host's network setup and permissions";

/** What banger needs to know about one network link, read from `ip -j -d addr show`. */
export interface LinkState {
  name: string;
  /** `bridge`, `tun`, `veth`, … or undefined for plain devices such as `eth0`. */
  kind: string | undefined;
  /** `tap` or `tun` for tun devices. */
  tunType: string | undefined;
  master: string | undefined;
  up: boolean;
  /** IPv4 addresses as `a.b.c.d/prefix`. */
  ipv4: string[];
}

/**
 * Runs `ip` with `args`; a failure becomes NETWORK_SETUP_FAILED saying `what` failed (naming
 * the device) with the command line and its stderr.
 */
export async function ip(args: readonly string[], what: string): Promise<string> {
  try {
    const { stdout } = await run("ip", args, { timeoutMs: IP_TIMEOUT_MS });
    return stdout;
  } catch (err) {
    if (!isBangerError(err, "SUBPROCESS_FAILED")) throw err;
    throw new BangerError("NETWORK_SETUP_FAILED", `${what}: ${err.message}`, {
      hint: DOCTOR_HINT,
      cause: err,
    });
  }
}

/** The state of link `name`, or undefined when no such link exists. */
export async function readLink(name: string): Promise<LinkState | undefined> {
  // Listing every link and filtering here avoids parsing `ip`'s "does not exist" message.
  const stdout = await ip(["-j", "-d", "addr", "show"], `cannot read link "${name}"`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (err) {
    throw new BangerError("NETWORK_SETUP_FAILED", `cannot read link "${name}": bad ip -j output`, {
      hint: DOCTOR_HINT,
      cause: err,
    });
  }
  if (!Array.isArray(parsed)) return undefined;
  const entry: unknown = parsed.find((l: unknown) => field(l, "ifname") === name);
  return entry === undefined ? undefined : toLinkState(name, entry);
}

function toLinkState(name: string, entry: unknown): LinkState {
  const linkinfo = field(entry, "linkinfo");
  const flags = field(entry, "flags");
  const addrs = field(entry, "addr_info");
  return {
    name,
    kind: stringField(linkinfo, "info_kind"),
    tunType: stringField(field(linkinfo, "info_data"), "type"),
    master: stringField(entry, "master"),
    up: Array.isArray(flags) && flags.includes("UP"),
    ipv4: Array.isArray(addrs) ? addrs.flatMap(ipv4Of) : [],
  };
}

function ipv4Of(addr: unknown): string[] {
  const local = stringField(addr, "local");
  const prefix = field(addr, "prefixlen");
  if (field(addr, "family") !== "inet" || local === undefined || typeof prefix !== "number") {
    return [];
  }
  return [`${local}/${prefix}`];
}

function field(value: unknown, key: string): unknown {
  if (typeof value !== "object" || value === null) return undefined;
  return (value as Record<string, unknown>)[key];
}

function stringField(value: unknown, key: string): string | undefined {
  const v = field(value, key);
  return typeof v === "string" ? v : undefined;
}

/** NETWORK_SETUP_FAILED for a device in a state banger must not change by itself. */
export function conflict(what: string, why: string): BangerError {
  return new BangerError("NETWORK_SETUP_FAILED", `${what}: ${why}`, { hint: DOCTOR_HINT });
}
