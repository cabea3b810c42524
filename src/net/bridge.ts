import { assertDeviceName } from "./device-names.js";
import { conflict, ip, readLink, type LinkState } from "./ip-link.js";
import { parseBridgeCidr } from "./subnet.js";

/**
 * The host bridge every VM tap joins (default `banger0`) and the host's address on it with its
 * prefix (default `172.16.0.1/24`).
 */
export interface BridgeConfig {
  name: string;
  cidr: string;
}

/**
 * Makes sure bridge `cfg.name` exists, carries `cfg.cidr` and is up. Idempotent and safe to run
 * concurrently. Throws INVALID_ARGUMENT for a bad name or cidr, NETWORK_SETUP_FAILED when `ip`
 * fails or a device of that name exists and is not a bridge.
 */
export async function ensureBridge(cfg: BridgeConfig): Promise<void> {
  assertDeviceName(cfg.name, "bridge");
  const subnet = parseBridgeCidr(cfg.cidr);
  const address = `${subnet.gateway}/${subnet.prefix}`;

  const link = await createBridgeIfAbsent(cfg.name);
  if (!link.ipv4.includes(address)) await addAddress(cfg.name, address);
  if (!link.up) {
    await ip(["link", "set", "dev", cfg.name, "up"], `cannot bring bridge "${cfg.name}" up`);
  }
}

async function createBridgeIfAbsent(name: string): Promise<LinkState> {
  const what = `cannot create bridge "${name}"`;
  let link = await readLink(name);
  if (link === undefined) {
    try {
      await ip(["link", "add", "name", name, "type", "bridge"], what);
    } catch (err) {
      // Another caller may have created it between our read and our add.
      if ((await readLink(name)) === undefined) throw err;
    }
    link = await readLink(name);
  }
  if (link === undefined) throw conflict(what, "it vanished right after being created");
  if (link.kind !== "bridge") {
    throw conflict(what, `a device of that name exists and is a ${link.kind ?? "plain"} device`);
  }
  return link;
}

async function addAddress(name: string, address: string): Promise<void> {
  try {
    await ip(["addr", "add", address, "dev", name], `cannot add "${address}" to "${name}"`);
  } catch (err) {
    if (!(await readLink(name))?.ipv4.includes(address)) throw err;
  }
}
