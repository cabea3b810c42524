import { assertDeviceName } from "./device-names.js";
import { conflict, ip, readLink, type LinkState } from "./ip-link.js";

function isTap(link: LinkState): boolean {
  return link.kind === "tun" && link.tunType === "tap";
}

/** True when a tap device called `name` exists (any other kind of device gives false). */
export async function tapExists(name: string): Promise<boolean> {
  assertDeviceName(name, "tap");
  const link = await readLink(name);
  return link !== undefined && isTap(link);
}

/**
 * Creates persistent tap `name`, attaches it to `bridge` and sets it up. Idempotent: an existing
 * tap is re-attached and brought up. Throws NETWORK_SETUP_FAILED when `ip` fails or `name` is
 * taken by a device that is not a tap.
 */
export async function createTap(name: string, bridge: string): Promise<void> {
  assertDeviceName(name, "tap");
  assertDeviceName(bridge, "bridge");
  const what = `cannot create tap "${name}" on bridge "${bridge}"`;

  const existing = await readLink(name);
  if (existing !== undefined && !isTap(existing)) {
    throw conflict(what, "a device of that name exists and is not a tap");
  }
  if (existing !== undefined) return attach(existing, bridge, what);

  try {
    await ip(["tuntap", "add", "dev", name, "mode", "tap"], what);
  } catch (err) {
    // Another caller may have created it between our read and our add.
    const raced = await readLink(name);
    if (raced === undefined || !isTap(raced)) throw err;
    return attach(raced, bridge, what);
  }
  const created = await readLink(name);
  if (created === undefined) throw conflict(what, "it vanished right after being created");
  try {
    await attach(created, bridge, what);
  } catch (err) {
    // A tap this call made must not outlive its failure.
    await ip(["link", "delete", "dev", name], what).catch(() => undefined);
    throw err;
  }
}

async function attach(link: LinkState, bridge: string, what: string): Promise<void> {
  if (link.master !== bridge) await ip(["link", "set", "dev", link.name, "master", bridge], what);
  if (!link.up) await ip(["link", "set", "dev", link.name, "up"], what);
}

/**
 * Deletes tap `name`. Idempotent: an absent tap is fine. Refuses (NETWORK_SETUP_FAILED) to
 * delete a device of that name that is not a tap, so a wrong name cannot remove a bridge.
 */
export async function deleteTap(name: string): Promise<void> {
  assertDeviceName(name, "tap");
  const what = `cannot delete tap "${name}"`;
  const link = await readLink(name);
  if (link === undefined) return;
  if (!isTap(link)) throw conflict(what, "that device is not a tap");

  try {
    await ip(["link", "delete", "dev", name], what);
  } catch (err) {
    if ((await readLink(name)) !== undefined) throw err;
  }
}
