import { BangerError } from "../errors/index.js";

/** The bridge's IPv4 subnet: the host's own address on it, the prefix length, the network. */
export interface Subnet {
  gateway: string;
  prefix: number;
  network: string;
}

// /31 and /32 leave no address for a VM next to the gateway; below /16 the pool is larger than
// any host can run and a linear lowest-free search would stop being instant.
const MAX_PREFIX = 30;
const MIN_PREFIX = 16;

const CIDR_HINT = 'set the bridge to an address with a prefix, for example "172.16.0.1/24"';

/** Parses dotted-quad IPv4 into an unsigned 32-bit number, or undefined when malformed. */
export function ipv4ToNumber(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    // Leading zeros are refused: some tools read them as octal.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

function maskFor(prefix: number): number {
  return 2 ** 32 - 2 ** (32 - prefix);
}

function invalidCidr(cidr: string, why: string): BangerError {
  return new BangerError("INVALID_ARGUMENT", `invalid bridge cidr "${cidr}": ${why}`, {
    hint: CIDR_HINT,
  });
}

/**
 * Splits `"172.16.0.1/24"` into gateway, prefix and network. The address must be a usable host
 * address of its subnet (not the network or broadcast address). Throws INVALID_ARGUMENT.
 */
export function parseBridgeCidr(cidr: string): Subnet {
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr.trim());
  if (match === null) throw invalidCidr(cidr, "expected an IPv4 address and a prefix");
  const gatewayText = match[1] ?? "";
  const prefix = Number(match[2]);
  const gateway = ipv4ToNumber(gatewayText);
  if (gateway === undefined) throw invalidCidr(cidr, `"${gatewayText}" is not an IPv4 address`);
  if (prefix < MIN_PREFIX || prefix > MAX_PREFIX) {
    throw invalidCidr(cidr, `prefix must be between ${MIN_PREFIX} and ${MAX_PREFIX}`);
  }

  const network = bitAnd(gateway, maskFor(prefix));
  const broadcast = network + 2 ** (32 - prefix) - 1;
  if (gateway === network || gateway === broadcast) {
    throw invalidCidr(cidr, "the bridge address must not be the network or broadcast address");
  }
  return { gateway: numberToIpv4(gateway), prefix, network: numberToIpv4(network) };
}

/**
 * The lowest host address of `subnet` that is neither the gateway nor in `used`. Throws
 * ADDRESS_POOL_EXHAUSTED when every host address is taken. Pure; the caller records the lease.
 */
export function allocateAddress(subnet: Subnet, used: ReadonlySet<string>): string {
  const network = ipv4ToNumber(subnet.network);
  if (network === undefined) throw new Error(`subnet network "${subnet.network}" is malformed`);
  const broadcast = network + 2 ** (32 - subnet.prefix) - 1;

  for (let candidate = network + 1; candidate < broadcast; candidate++) {
    const address = numberToIpv4(candidate);
    if (address !== subnet.gateway && !used.has(address)) return address;
  }
  const hosts = broadcast - network - 2;
  throw new BangerError(
    "ADDRESS_POOL_EXHAUSTED",
    `cannot lease a VM address: all ${hosts} host addresses of ` +
      `"${subnet.network}/${subnet.prefix}" are in use`,
    { hint: "delete VMs you no longer need with `banger vm prune`, or widen the bridge cidr" },
  );
}

// JavaScript's `&` works on signed 32-bit integers; this keeps the result unsigned.
function bitAnd(a: number, b: number): number {
  return (a & b) >>> 0;
}
