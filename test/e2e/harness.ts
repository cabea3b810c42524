// Runs the real CLI (dist/) against a real daemon, real QEMU guests and a test bridge.
// State lives in one directory for the whole suite so the kernel and image are built once.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI = process.env["BANGER_E2E_CLI"] ?? path.join(root, "dist", "cli", "main.js");

export const STATE_DIR = process.env["BANGER_E2E_STATE"] ?? "/var/tmp/banger-e2e/state";
export const RUN_DIR = process.env["BANGER_E2E_RUN"] ?? "/tmp/banger-e2e-run";
export const BRIDGE = process.env["BANGER_E2E_BRIDGE"] ?? "bangertest0";
export const CIDR = process.env["BANGER_E2E_CIDR"] ?? "172.16.99.1/24";
/** banger's `.vm` DNS on loopback, and the fake resolver 06-net runs for names outside `.vm`. */
export const DNS_PORT = Number(process.env["BANGER_E2E_DNS_PORT"] ?? 42169);
export const UPSTREAM_PORT = DNS_PORT + 1;
const CONFIG = path.join(path.dirname(STATE_DIR), "config.toml");

mkdirSync(STATE_DIR, { recursive: true });
mkdirSync(RUN_DIR, { recursive: true });
writeFileSync(
  CONFIG,
  [
    `accel = "auto"`,
    `[defaults]`,
    `vcpus = 1`,
    `memory = "512M"`,
    `disk_size = "1G"`,
    `[network]`,
    `bridge = "${BRIDGE}"`,
    `cidr = "${CIDR}"`,
    `[dns]`,
    `port = ${DNS_PORT}`,
    `upstreams = ["127.0.0.1:${UPSTREAM_PORT}"]`,
    ``,
  ].join("\n"),
);

export const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  BANGER_STATE_DIR: STATE_DIR,
  BANGER_RUN_DIR: RUN_DIR,
  BANGER_CONFIG: CONFIG,
};

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `banger args…` to completion. */
export function banger(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: opts.env ?? ENV,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`banger ${args.join(" ")} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 600_000);
    child.stdin.end(opts.input ?? "");
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Like `banger`, but fails the test with the CLI's stderr unless it exits 0. */
export async function ok(args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await banger(args, opts);
  if (r.code !== 0) {
    throw new Error(
      `banger ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
    );
  }
  return r.stdout;
}

export interface VmJson {
  id: string;
  name: string;
  state: string;
  address?: string;
  tap?: string;
  pid?: number;
  lastError?: string;
}

export async function show(name: string): Promise<VmJson> {
  return JSON.parse(await ok(["vm", "show", name, "--json"])) as VmJson;
}

export async function list(): Promise<VmJson[]> {
  return JSON.parse(await ok(["vm", "list", "--json"])) as VmJson[];
}

/** Runs a command in the VM over banger's ssh. */
export function inVm(name: string, command: string[]): Promise<CliResult> {
  return banger(["vm", "ssh", name, "--", ...command]);
}

export function linkExists(dev: string): boolean {
  return spawnSync("ip", ["link", "show", "dev", dev], { stdio: "ignore" }).status === 0;
}

export function daemonPid(): number | undefined {
  try {
    return Number(readFileSync(path.join(RUN_DIR, "bangerd.pid"), "utf8").trim());
  } catch {
    return undefined;
  }
}

/** A name unique to this run, so reruns never collide with leftovers. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

/** Deletes the named VMs, ignoring ones that are already gone. */
export async function cleanup(...names: string[]): Promise<void> {
  for (const name of names) await banger(["vm", "delete", name]);
}

/** Stops the suite's daemon (VMs would survive it; the tests delete theirs first). */
export function stopDaemon(): void {
  const pid = daemonPid();
  if (pid) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

/** The address leased to a VM in the store, read straight from the SQLite file. */
export async function leaseOf(vmId: string): Promise<string | undefined> {
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(path.join(STATE_DIR, "banger.db"), { readonly: true });
  try {
    const row = db.prepare("SELECT address FROM leases WHERE vm_id = ?").get(vmId) as
      { address: string } | undefined;
    return row?.address;
  } finally {
    db.close();
  }
}
