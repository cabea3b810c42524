// Routing `~vm` through systemd-resolved to banger's DNS server on the bridge, and undoing it.
import { stat } from "node:fs/promises";
import { run, which } from "../host/index.js";
import type { Logger } from "../log/index.js";

const RESOLVED_RUN_DIR = "/run/systemd/resolve";
const RESOLVECTL_TIMEOUT_MS = 5000;

/** The `resolvectl` calls that send `.vm` queries to `address` on link `bridge`. */
export function routeArgv(bridge: string, address: string): string[][] {
  return [
    ["dns", bridge, address],
    ["domain", bridge, "~vm"],
  ];
}

/** The `resolvectl` call that drops banger's settings from link `bridge`. */
export function unrouteArgv(bridge: string): string[][] {
  return [["revert", bridge]];
}

/** True on a host where systemd-resolved runs and `resolvectl` can talk to it. */
export async function hasResolved(runDir = RESOLVED_RUN_DIR): Promise<boolean> {
  const dir = await stat(runDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  return dir && (await which("resolvectl")) !== undefined;
}

/**
 * Runs each argv with `resolvectl`. A failure is logged, not thrown: without the route `.vm`
 * names still resolve through `127.0.0.1:<port>` and `banger ssh-config`.
 */
export async function runResolvectl(calls: string[][], logger: Logger): Promise<boolean> {
  try {
    for (const args of calls) {
      await run("resolvectl", args, { timeoutMs: RESOLVECTL_TIMEOUT_MS });
    }
    logger.info({ op: "dns", calls }, "systemd-resolved updated");
    return true;
  } catch (err) {
    logger.warn({ err, op: "dns" }, "cannot update systemd-resolved");
    return false;
  }
}
