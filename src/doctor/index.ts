// `banger doctor`: one PASS/WARN/FAIL row per host requirement, each with a one-line fix.
// Runs without the daemon so it can explain why the daemon does not start.
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

export type { CheckResult, CheckStatus } from "./checks.js";

/** Runs every host check; never throws for a failed check, only reports it. */
export async function runHostChecks(paths: Paths): Promise<CheckResult[]> {
  return Promise.all([
    ...toolChecks(),
    tunCheck(),
    bridgeCheck(),
    nftablesCheck(),
    diskCheck(paths),
    accelCheck(paths),
  ]);
}
