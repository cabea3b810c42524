// Private: banger's nftables rules (table `ip banger`): isolation of a bridge and masquerading
// for the VMs that asked for NAT. Other tables are never read or touched.
import { writeFile } from "node:fs/promises";
import { BangerError, isBangerError } from "../errors/index.js";
import { run } from "../host/index.js";
import { assertDeviceName } from "./device-names.js";

const NFT_TIMEOUT_MS = 10_000;
const IP_FORWARD_PATH = "/proc/sys/net/ipv4/ip_forward";
const TABLE = "ip banger";

/** The filter of one bridge: which VM addresses may leave it through masquerading. */
export interface BridgeRules {
  bridge: string;
  /** IPv4 addresses (dotted quads) of running VMs with NAT on; the rest stay on the bridge. */
  natAddresses: readonly string[];
}

export interface NftOptions {
  /** The `nft` binary; a name looked up on PATH or a path (tests pass a fake). */
  nft?: string;
  /** The sysctl file turned on for NAT; default /proc/sys/net/ipv4/ip_forward. */
  ipForwardPath?: string;
}

/**
 * The nft script replacing the bridge's two chains in one transaction: traffic between VMs on
 * the bridge passes, replies come back in, VMs listed in `natAddresses` leave masqueraded,
 * everything else from or to the bridge is dropped in the forward hook. The host's own
 * services (input hook) are not filtered. Each bridge has its own chains, so daemons with
 * different bridges share the table without touching each other's rules. Pure; throws
 * INVALID_ARGUMENT for a bad bridge name or address, so nothing else reaches the text.
 */
export function bridgeRuleset(rules: BridgeRules): string {
  assertDeviceName(rules.bridge, "bridge");
  const addresses = [...new Set(rules.natAddresses.map(checkedAddress))].sort();
  const b = `"${rules.bridge}"`;
  const forward = `${TABLE} ${chainName("forward", rules.bridge)}`;
  const postrouting = `${TABLE} ${chainName("postrouting", rules.bridge)}`;
  return [
    `add table ${TABLE}`,
    `add chain ${forward} { type filter hook forward priority filter; policy accept; }`,
    `flush chain ${forward}`,
    `add rule ${forward} iifname ${b} oifname ${b} accept`,
    ...addresses.map((a) => `add rule ${forward} iifname ${b} ip saddr ${a} accept`),
    `add rule ${forward} iifname ${b} drop`,
    `add rule ${forward} oifname ${b} ct state established,related accept`,
    `add rule ${forward} oifname ${b} drop`,
    `add chain ${postrouting} { type nat hook postrouting priority srcnat; policy accept; }`,
    `flush chain ${postrouting}`,
    ...addresses.map((a) => `add rule ${postrouting} oifname != ${b} ip saddr ${a} masquerade`),
    "",
  ].join("\n");
}

/** `forward_banger0`: nft identifiers allow the characters of an interface name. */
export function chainName(hook: "forward" | "postrouting", bridge: string): string {
  return `${hook}_${bridge}`;
}

function checkedAddress(address: string): string {
  const octets = address.split(".");
  const ok =
    octets.length === 4 && octets.every((o) => /^(0|[1-9][0-9]{0,2})$/.test(o) && Number(o) < 256);
  if (ok) return address;
  throw new BangerError("INVALID_ARGUMENT", `invalid VM address "${address}" for NAT`, {
    hint: "check the VM with `banger vm show <vm>`",
  });
}

/**
 * Loads `bridgeRuleset(rules)` with `nft -f -`, atomically (all of it or nothing), and turns on
 * IPv4 forwarding when an address needs NAT. Idempotent. Throws HOST_MISSING_TOOL when `nft`
 * is not installed and NETWORK_SETUP_FAILED when the kernel refuses the rules (no nf_tables or
 * NAT support) or forwarding cannot be enabled. Timeout: 10 s.
 */
export async function applyBridgeRules(rules: BridgeRules, opts: NftOptions = {}): Promise<void> {
  const script = bridgeRuleset(rules);
  const nft = opts.nft ?? "nft";
  const what = `cannot set up the nftables rules of bridge "${rules.bridge}"`;
  try {
    await run(nft, ["-f", "-"], { input: script, timeoutMs: NFT_TIMEOUT_MS });
  } catch (err) {
    if (isBangerError(err, "HOST_MISSING_TOOL")) {
      throw new BangerError("HOST_MISSING_TOOL", `${what}: "nft" (nftables) is not installed`, {
        hint: "apt-get install nftables",
        cause: err,
      });
    }
    if (!isBangerError(err, "SUBPROCESS_FAILED")) throw err;
    throw new BangerError("NETWORK_SETUP_FAILED", `${what}: the kernel refused them`, {
      hint: "load nftables and NAT support (modprobe nf_tables nft_masq), then: banger doctor",
      cause: err,
    });
  }
  if (rules.natAddresses.length > 0) await enableForwarding(opts.ipForwardPath ?? IP_FORWARD_PATH);
}

async function enableForwarding(file: string): Promise<void> {
  try {
    await writeFile(file, "1\n");
  } catch (err) {
    throw new BangerError("NETWORK_SETUP_FAILED", "cannot enable IPv4 forwarding for NAT", {
      hint: "run bangerd as root, or: sysctl -w net.ipv4.ip_forward=1",
      cause: err,
    });
  }
}
