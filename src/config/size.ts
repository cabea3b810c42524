import { BangerError } from "../errors/index.js";

const MIB = 1024 * 1024;
const UNIT_MIB: Record<string, number> = {
  "": 1,
  k: 1 / 1024,
  kb: 1 / 1024,
  kib: 1 / 1024,
  m: 1,
  mb: 1,
  mib: 1,
  g: 1024,
  gb: 1024,
  gib: 1024,
  t: 1024 * 1024,
  tb: 1024 * 1024,
  tib: 1024 * 1024,
};

export interface SizeLimits {
  minMib: number;
  maxMib: number;
}

/**
 * Parses a size as users write it: `4G`, `4GiB`, `512M`, `1.5G`; a bare number means MiB.
 * Units are binary (G = GiB). Throws INVALID_SIZE naming the value, the field and the limit.
 */
export function parseSizeMib(value: string | number, field: string, limits: SizeLimits): number {
  const text = String(value).trim();
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text);
  const factor = match ? UNIT_MIB[match[2]!.toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new BangerError("INVALID_SIZE", `invalid ${field} "${text}": not a size`, {
      hint: `write it as a number of MiB or with a unit, for example 512M or 4G`,
    });
  }
  const mib = Math.floor(Number(match[1]) * factor);
  if (mib < limits.minMib || mib > limits.maxMib) {
    throw new BangerError(
      "INVALID_SIZE",
      `invalid ${field} "${text}": must be between ${formatMib(limits.minMib)} and ${formatMib(limits.maxMib)}`,
    );
  }
  return mib;
}

/** `2048` → `2G`, `1536` → `1536M`. */
export function formatMib(mib: number): string {
  if (mib >= 1024 && mib % 1024 === 0) return `${mib / 1024}G`;
  return `${mib}M`;
}

export function mibToBytes(mib: number): number {
  return mib * MIB;
}

/** Parses a duration such as `90s`, `3m`, `500ms`, or a bare number of seconds. */
export function parseDurationMs(value: string | number, field: string): number {
  const text = String(value).trim();
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(text);
  if (!match) {
    throw new BangerError("INVALID_ARGUMENT", `invalid ${field} "${text}": not a duration`, {
      hint: "write it like 90s, 3m or 500ms",
    });
  }
  const n = Number(match[1]);
  const unit = match[2] ?? "s";
  const ms = unit === "ms" ? n : unit === "s" ? n * 1000 : n * 60_000;
  if (ms <= 0) {
    throw new BangerError("INVALID_ARGUMENT", `invalid ${field} "${text}": must be positive`);
  }
  return Math.round(ms);
}
