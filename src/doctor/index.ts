// `banger doctor`: one PASS/WARN/FAIL row per host requirement, each with a one-line fix.
// Runs without the daemon so it can explain why the daemon does not start.
import { BangerError } from "../errors/index.js";
import type { Paths } from "../paths/index.js";
import {
  bridgeCheck,
  diskCheck,
  nftablesCheck,
  toolChecks,
  tunCheck,
  type CheckResult,
} from "./checks.js";
import { accelCheck } from "./accel.js";
import { dnsCheck } from "./dns.js";

export type { CheckResult, CheckStatus } from "./checks.js";

/**
 * Runs every host check; never throws for a failed check, only reports it. With `dnsPort`,
 * also checks that banger's `.vm` DNS answers on that loopback port (WARN when it does not).
 */
export async function runHostChecks(
  paths: Paths,
  opts: { dnsPort?: number } = {},
): Promise<CheckResult[]> {
  return Promise.all([
    ...(opts.dnsPort === undefined ? [] : [dnsCheck(opts.dnsPort)]),
    ...toolChecks(),
    tunCheck(),
    bridgeCheck(),
    nftablesCheck(),
    diskCheck(paths),
    guarded("KVM", accelCheck(paths)),
  ]);
}

/** A check that throws reports a FAIL row with the error instead of ending the command. */
async function guarded(name: string, check: Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await check;
  } catch (err) {
    const hint = err instanceof BangerError ? err.hint : undefined;
    return {
      name,
      status: "FAIL",
      detail: `cannot check: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
      ...(hint === undefined ? {} : { fix: hint }),
    };
  }
}
