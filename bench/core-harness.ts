// Shared by the core benchmarks: the bench's own banger installation (state, run dir, config,
// bridge), running the real CLI with a deadline, and undoing everything the bench made.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../src/host/index.js";
import { deleteTap } from "../src/net/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CLI = path.join(ROOT, "dist", "cli", "main.js");

const BENCH_DIR = "/var/tmp/banger-bench";
export const STATE_DIR = path.join(BENCH_DIR, "state");
export const RUN_DIR = "/tmp/banger-bench-run";
export const BRIDGE = "bangerbench0";
const CONFIG = path.join(BENCH_DIR, "config.toml");
/** Read-only source of an already built kernel and image, to skip the first-run build. */
const E2E_STATE_DIR = "/var/tmp/banger-e2e/state";
const KERNEL = "kernels/debian-bookworm-cloud";
const IMAGE = "images/debian-bookworm";

export const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  BANGER_STATE_DIR: STATE_DIR,
  BANGER_RUN_DIR: RUN_DIR,
  BANGER_CONFIG: CONFIG,
};

/** Aborted by Ctrl-C, SIGTERM or the bench's overall deadline. */
export const abort = new AbortController();

export function checkAborted(): void {
  if (abort.signal.aborted) throw new Error(`interrupted (${String(abort.signal.reason)})`);
}

// --- the bench's installation ---

/** Writes the bench config and, when the e2e suite has built them, copies its kernel and image. */
export async function prepareInstallation(): Promise<string[]> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing; run: npm run build`);
  await mkdir(STATE_DIR, { recursive: true, mode: 0o700 });
  await mkdir(RUN_DIR, { recursive: true });
  const config = [
    `accel = "auto"`,
    `[defaults]`,
    `vcpus = 1`,
    `memory = "512M"`,
    `disk_size = "1G"`,
    `[network]`,
    `bridge = "${BRIDGE}"`,
    `cidr = "172.16.98.1/24"`,
    ``,
  ];
  await writeFile(CONFIG, config.join("\n"));
  const copied: string[] = [];
  for (const part of [KERNEL, IMAGE]) {
    const mine = path.join(STATE_DIR, part);
    const theirs = path.join(E2E_STATE_DIR, part);
    if (existsSync(path.join(mine, "manifest.json"))) continue;
    if (!existsSync(path.join(theirs, "manifest.json"))) continue;
    // --sparse keeps the 1 GiB rootfs as small on disk as the original.
    await run("cp", ["-a", "--sparse=always", theirs, path.dirname(mine)], { timeoutMs: 120_000 });
    copied.push(part);
  }
  return copied;
}

/** The running daemon's pid for the bench's run dir, if its pid file names a live process. */
export async function daemonPid(): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(path.join(RUN_DIR, "bangerd.pid"), "utf8")).trim());
    return Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

// --- running banger ---

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawning the CLI process until it exited. */
  ms: number;
}

/** Runs `banger args…` to completion; on abort it is interrupted like Ctrl-C would, then killed. */
export function banger(args: string[], timeoutMs: number): Promise<CliResult> {
  return timed(process.execPath, [CLI, ...args], timeoutMs);
}

/** Like `banger` but throws, with the CLI's stderr, unless it exits 0. */
export async function bangerOk(args: string[], timeoutMs: number): Promise<CliResult> {
  const r = await banger(args, timeoutMs);
  checkAborted();
  if (r.code !== 0) {
    throw new Error(`banger ${args.join(" ")} exited ${r.code}: ${r.stderr.trim().slice(-1500)}`);
  }
  return r;
}

function timed(cmd: string, args: string[], timeoutMs: number, abortable = true) {
  return new Promise<CliResult>((resolve) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env: ENV, stdio: ["ignore", "pipe", "pipe"] });
    if (abortable) track(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    // SIGINT first, as from a terminal, so the CLI rolls back what it started.
    const interrupt = (): void => stopChild(child, "SIGINT", 15_000);
    const timer = setTimeout(interrupt, timeoutMs);
    if (abortable) abort.signal.addEventListener("abort", interrupt, { once: true });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      abort.signal.removeEventListener("abort", interrupt);
      const ms = performance.now() - started;
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr, ms });
    });
  });
}

// --- what the bench made, undone in every path ---

const children = new Set<ChildProcess>();
const vmNames = new Set<string>();
const taps = new Set<string>();
const dirs = new Set<string>();

export function track(child: ChildProcess): void {
  children.add(child);
  child.on("exit", () => children.delete(child));
}

/** Registers a VM name before it is created, so an interrupted create is deleted too. */
export function trackVm(name: string): void {
  vmNames.add(name);
}

export function trackTap(name: string): void {
  taps.add(name);
}

export function trackDir(dir: string): void {
  dirs.add(dir);
}

/** Deletes the named VMs through banger and forgets them. */
export async function deleteVms(names: string[]): Promise<void> {
  if (names.length === 0) return;
  await banger(["vm", "delete", ...names], 120_000);
  names.forEach((n) => vmNames.delete(n));
}

/** SIGKILL to every child still running; for the last moment before the bench exits. */
export function killAllNow(): void {
  for (const child of children) child.kill("SIGKILL");
}

/** Sends `signal`, then SIGKILL when the child is still there after `graceMs`. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  setTimeout(() => child.kill("SIGKILL"), graceMs).unref();
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Kills what the bench started, deletes its VMs and taps and its scratch dirs, and stops the
 * daemon (and removes the bridge) when the bench was the one that brought them up. Each part
 * is bounded and runs even when an earlier one failed.
 */
export async function cleanupAll(opts: {
  stopDaemon: boolean;
  removeBridge: boolean;
}): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const live = [...children];
  live.forEach((c) => stopChild(c, "SIGINT", 5_000));
  await Promise.all(live.map(waitForExit));
  // A fresh controller: the bench's own may be aborted, and delete must still run.
  await attempt("deleting VMs", () => deleteVmsUnaborted([...vmNames]));
  for (const tap of taps) await attempt(`deleting tap ${tap}`, () => deleteTap(tap));
  for (const dir of dirs)
    await attempt(`removing ${dir}`, () => rm(dir, { recursive: true, force: true }));
  if (opts.stopDaemon) await attempt("stopping bangerd", stopDaemon);
  if (opts.removeBridge && linkExists(BRIDGE)) {
    await attempt(`removing bridge ${BRIDGE}`, () =>
      run("ip", ["link", "delete", "dev", BRIDGE], { timeoutMs: 10_000 }),
    );
  }
  return problems;
}

/**
 * Runs a bench that uses the daemon and bridge as it finds them (agent, workspace): stops it
 * after `deadlineMs` or at Ctrl-C through the shared abort signal, reports a failure, and
 * always cleans up what it made. The exit code is 1 on failure.
 */
export function runVmBench(name: string, deadlineMs: number, main: () => Promise<void>): void {
  const deadline = setTimeout(() => abort.abort("deadline"), deadlineMs);
  process.on("SIGINT", () => abort.abort("SIGINT"));
  main()
    .catch((err: unknown) => {
      const why = err instanceof Error ? err.message : String(err);
      process.stderr.write(`bench/${name} failed: ${why}\n`);
      process.exitCode = 1;
    })
    .finally(async () => {
      clearTimeout(deadline);
      for (const p of await cleanupAll({ stopDaemon: false, removeBridge: false })) {
        process.stderr.write(`bench/${name}: cleanup: ${p}\n`);
      }
    });
}

async function deleteVmsUnaborted(names: string[]): Promise<void> {
  if (names.length === 0) return;
  const r = await timed(process.execPath, [CLI, "vm", "delete", ...names], 120_000, false);
  const missing = r.stderr
    .split("\n")
    .filter((l) => l.trim() !== "" && !/not found|does not exist|no VM/i.test(l));
  if (r.code !== 0 && missing.length > 0) throw new Error(missing.join("; "));
}

async function stopDaemon(): Promise<void> {
  const pid = await daemonPid();
  if (pid === undefined) return;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

// --- figures ---

/** The JSON objects among `text`'s lines (NDJSON progress, results); other lines are skipped. */
export function jsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === "object" && value !== null) out.push(value as Record<string, unknown>);
    } catch {
      // A line that only looks like JSON is output, not a record.
    }
  }
  return out;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  if (sorted.length % 2 === 1) return sorted[mid] ?? NaN;
  return ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/**
 * Response times (ms) the daemon logged for its last `count` requests of `method` on `url`
 * (exact path), read from the tail of bangerd.log. Shows how much of a CLI call is the daemon.
 */
export async function daemonResponseMs(
  method: string,
  url: string,
  count: number,
): Promise<number[]> {
  const log = await readFile(path.join(STATE_DIR, "bangerd.log"), "utf8");
  const ids = new Set<string>();
  const times: number[] = [];
  for (const line of jsonLines(log.slice(-2_000_000))) {
    const req = line["req"] as { method?: string; url?: string } | undefined;
    const reqId = String(line["reqId"]);
    if (req?.method === method && req.url === url) ids.add(reqId);
    else if (ids.has(reqId) && typeof line["responseTime"] === "number") {
      times.push(line["responseTime"]);
    }
  }
  return times.slice(-count);
}

/** Bytes really allocated on disk for everything under `dir` (st_blocks, like `du`). */
export async function allocatedBytes(dir: string): Promise<number> {
  const { stdout } = await run("du", ["-s", "-B1", dir], { timeoutMs: 10_000 });
  return Number(stdout.split(/\s/)[0]);
}

/** A process's resident memory in bytes, from /proc/<pid>/status (`field`: VmRSS, VmHWM). */
export async function procMemBytes(pid: number, field = "VmRSS"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
  if (kib === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

/** Copies keeping holes, so a pristine sparse disk stays as small as banger made it. */
export async function copySparse(from: string, to: string): Promise<void> {
  await run("cp", ["--sparse=always", from, to], { timeoutMs: 60_000 });
}
