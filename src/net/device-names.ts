import { createHash } from "node:crypto";
import { BangerError } from "../errors/index.js";

// Linux refuses interface names of 16 bytes or more (IFNAMSIZ includes the NUL).
const MAX_IFNAME_LENGTH = 15;
const TAP_PREFIX = "bgr";
const TAP_ID_CHARS = 12;

function digest(domain: string, vmId: string): Buffer {
  return createHash("sha256").update(`banger:${domain}:${vmId}`).digest();
}

/**
 * The MAC address of a VM's network card, derived from its id: the same id always gives the same
 * address. Locally administered and unicast, lowercase, colon-separated.
 */
export function macForVm(vmId: string): string {
  const bytes = digest("mac", vmId).subarray(0, 6);
  // Bit 0 of the first octet marks multicast, bit 1 a locally administered address.
  bytes[0] = ((bytes[0] ?? 0) & 0xfc) | 0x02;
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * The host tap device of a VM: `bgr` plus 12 hex characters hashed from the id (15 characters,
 * the kernel's limit). Hashing keeps the name valid whatever characters the id uses and spreads
 * ids that share a prefix (such as ULIDs created in the same millisecond).
 */
export function tapNameForVm(vmId: string): string {
  return TAP_PREFIX + digest("tap", vmId).toString("hex").slice(0, TAP_ID_CHARS);
}

/** Throws INVALID_ARGUMENT unless `name` is a safe Linux interface name. */
export function assertDeviceName(name: string, what: string): void {
  const safe = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) && name.length <= MAX_IFNAME_LENGTH;
  if (safe) return;
  throw new BangerError(
    "INVALID_ARGUMENT",
    `invalid ${what} name "${name}": expected at most ${MAX_IFNAME_LENGTH} letters, digits, ` +
      `"_", "." or "-"`,
    { hint: 'choose a short name such as "banger0"' },
  );
}
