import { spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BangerError } from "../errors/index.js";
import type { Paths } from "../paths/index.js";
import { callJson } from "./http.js";

const START_TIMEOUT_MS = 15_000;

/** The daemon's entry point, shipped beside the client in dist/. */
export function daemonEntry(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "daemon", "main.js");
}

export async function ping(
  socketPath: string,
): Promise<{ version: string; pid: number } | undefined> {
  try {
    return await callJson(socketPath, "GET", "/v1/ping");
  } catch {
    return undefined;
  }
}

/**
 * Makes sure a daemon answers on the socket, starting one in its own session when none does
 * (no service manager needed). Throws DAEMON_UNREACHABLE naming the daemon log on failure.
 */
export async function ensureDaemon(paths: Paths): Promise<void> {
  if (await ping(paths.socketPath)) return;
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const out = openSync(path.join(paths.stateDir, "bangerd.out"), "a");
  const child = spawn(process.execPath, [daemonEntry()], {
    detached: true,
    stdio: ["ignore", out, out],
    env: process.env,
  });
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await ping(paths.socketPath)) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new BangerError("DAEMON_UNREACHABLE", `bangerd did not start on "${paths.socketPath}"`, {
    hint: `look at ${path.join(paths.stateDir, "bangerd.out")} and ${paths.daemonLogPath}`,
  });
}
