// The core benchmarks: `vm run` against a bare QEMU boot, warm create, `vm list` with 10 VMs,
// a new VM's disk space and the idle daemon's memory. Prints figures, never asserts.
// Run: npm run build && node --import tsx bench/core.ts [--runs N]
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, mib, printTable, s, stepDurations, type Row } from "./core-report.js";
import { bootBare, flushNeighbours, prepareBareVm, watchBanner } from "./core-bare-qemu.js";
import {
  BRIDGE,
  STATE_DIR,
  abort,
  allocatedBytes,
  bangerOk,
  checkAborted,
  cleanupAll,
  daemonPid,
  daemonResponseMs,
  deleteVms,
  jsonLines,
  killAllNow,
  linkExists,
  median,
  prepareInstallation,
  procMemBytes,
  stopChild,
  track,
  trackVm,
  type CliResult,
} from "./core-harness.js";

const MAX_RUNS = 20;
const LIST_VMS = 10;
const MIB = 1024 * 1024;
const SETTLE_MS = 2_000;
const tag = process.pid.toString(36);

function parseRuns(argv: string[]): number {
  const i = argv.indexOf("--runs");
  if (i === -1) return 3;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1 || n > MAX_RUNS) {
    throw new Error(`--runs must be a whole number from 1 to ${MAX_RUNS}, got "${argv[i + 1]}"`);
  }
  return n;
}

// --- 1. overhead of `vm run` against a bare boot ---

async function benchOverhead(runs: number): Promise<Row> {
  console.log("\n1. Overhead: banger vm run --rm -- true against a bare qemu boot");
  const bare = await prepareBareVm(`bench-${tag}-bare`);
  console.log(`   bare argv: ${bare.qemu} ${bare.args.join(" ")}`);
  const bangerMs: number[] = [];
  const bareMs: number[] = [];
  const upMs: number[] = [];
  const tailMs: number[] = [];
  // Interleaved, so drifting load on the host hits both sides alike.
  const failures: string[] = [];
  for (let i = 1; i <= runs; i++) {
    // A boot that fails on a crowded host is reported and skipped, not the end of the bench.
    const r = await survive(`banger run ${i}`, failures, () =>
      timedRun(`bench-${tag}-run${i}`, bare.address),
    );
    if (r !== undefined) bangerMs.push(r.ms);
    if (r?.upMs !== undefined) {
      upMs.push(r.upMs);
      tailMs.push(r.ms - r.upMs);
    }
    const b = await survive(`bare run ${i}`, failures, () => bootBare(bare));
    if (b !== undefined) bareMs.push(b);
    if (b !== undefined) console.log(`   run ${i}: bare qemu ${s(b)}`);
  }
  if (bangerMs.length === 0 || bareMs.length === 0) {
    throw new Error(`no successful run on one side: ${failures.join("; ")}`);
  }
  if (upMs.length > 0) {
    console.log(
      `   banger's guest answered SSH at ${s(median(upMs))} (median, bench's own poll); after ` +
        `that banger took ${s(median(tailMs))} more (noticing it, ssh \`true\`, the delete)`,
    );
  }
  const ratio = median(bangerMs) / median(bareMs);
  return {
    figure: "vm run --rm -- true",
    value: s(median(bangerMs)) + (upMs.length > 0 ? `, guest up at ${s(median(upMs))}` : ""),
    baseline: `${s(median(bareMs))} bare qemu`,
    target:
      `${ratio.toFixed(3)}x (<= 1.15x)` +
      (failures.length > 0 ? `, ${failures.length} failed runs` : ""),
    meets: ratio <= 1.15,
  };
}

/** `fn()`, or undefined after printing and recording its failure; an interrupt still throws. */
async function survive<T>(
  what: string,
  failures: string[],
  fn: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    checkAborted();
    const message = err instanceof Error ? err.message : String(err);
    console.log(`   ${what} FAILED: ${message.split("\n")[0]?.slice(0, 300)}`);
    failures.push(what);
    return undefined;
  }
}

/** One `vm run --rm -- true`, with the bench polling the guest's SSH beside banger. */
async function timedRun(name: string, address: string): Promise<{ ms: number; upMs?: number }> {
  trackVm(name);
  await flushNeighbours();
  let finished = false;
  const started = performance.now();
  const up = watchBanner(address, started, () => finished);
  let r: CliResult;
  try {
    r = await bangerOk(["vm", "run", "--rm", "--name", name, "--", "true"], 400_000);
  } finally {
    finished = true;
    // --rm keeps a VM whose boot failed; the next run must not find it.
    await deleteVms([name]);
  }
  const upMs = await up;
  const steps = [...stepDurations(r.stderr)].map(([k, v]) => `${k} ${s(v)}`).join(", ");
  // The guest gets the lowest free address, as the bare VM did; check it really was that one.
  const sameAddress = r.stderr.includes(`Waiting for SSH on ${address}`);
  const seen = sameAddress && upMs !== undefined ? `, SSH up at ${s(upMs)}` : "";
  console.log(`   ${name}: banger ${s(r.ms)}${seen} (${steps})`);
  return sameAddress && upMs !== undefined ? { ms: r.ms, upMs } : { ms: r.ms };
}

// --- 2 and 4. warm create and the space a new VM takes ---

async function benchCreate(runs: number, names: string[]): Promise<Row[]> {
  console.log("\n2. Warm create: banger vm create --no-start (kernel, image and daemon up)");
  const wallMs: number[] = [];
  const diskMs: number[] = [];
  const bytes: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const name = `bench-${tag}-c${i}`;
    trackVm(name);
    names.push(name);
    const r = await bangerOk(["vm", "create", "--no-start", "--name", name, "--json"], 120_000);
    const lines = jsonLines(r.stdout + "\n" + r.stderr);
    const id = lines.find((l) => typeof l["id"] === "string")?.["id"];
    const disks = lines.find((l) => l["step"] === "disks" && l["status"] === "done");
    wallMs.push(r.ms);
    diskMs.push(Number(disks?.["durationMs"] ?? NaN));
    bytes.push(await allocatedBytes(path.join(STATE_DIR, "vms", String(id))));
    console.log(
      `   run ${i}: ${s(r.ms)} wall, daemon's "disks" step ${s(diskMs.at(-1) ?? NaN)}, ` +
        `VM dir ${mib(bytes.at(-1) ?? NaN)} allocated`,
    );
  }
  const cliStart = await cliStartMs(runs);
  const daemonMs = median(await daemonResponseMs("POST", "/v1/vms", runs));
  console.log(`   the daemon answered POST /v1/vms in ${s(daemonMs)} (median, its log)`);
  return [
    {
      figure: "warm vm create --no-start",
      value: s(median(wallMs)),
      baseline: `${s(cliStart)} banger version; daemon ${s(daemonMs)}`,
      target: "< 1 s",
      meets: median(wallMs) < 1000,
    },
    {
      figure: "new VM dir, allocated",
      value: mib(median(bytes)),
      baseline: "-",
      target: "< 10 MiB",
      meets: median(bytes) < 10 * MIB,
    },
  ];
}

/** Median wall time of `banger version`: node and the CLI starting, no daemon involved. */
async function cliStartMs(runs: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) ms.push((await bangerOk(["version"], 30_000)).ms);
  return median(ms);
}

// --- 3. vm list with 10 VMs ---

async function benchList(runs: number, names: string[]): Promise<Row> {
  console.log(`\n3. vm list with ${LIST_VMS} VMs (created with --no-start)`);
  for (let i = names.length + 1; names.length < LIST_VMS; i++) {
    const name = `bench-${tag}-c${i}`;
    trackVm(name);
    names.push(name);
    await bangerOk(["vm", "create", "--no-start", "--name", name], 120_000);
  }
  const ms: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const r = await bangerOk(["vm", "list"], 30_000);
    const rows = r.stdout.split("\n").filter((l) => l.startsWith(`bench-${tag}-c`)).length;
    ms.push(r.ms);
    console.log(`   run ${i}: ${s(r.ms)} (${rows} bench VMs listed)`);
  }
  const cliStart = await cliStartMs(runs);
  const daemonMs = median(await daemonResponseMs("GET", "/v1/vms", runs));
  console.log(`   the daemon answered GET /v1/vms in ${daemonMs.toFixed(1)} ms (median, its log)`);
  return {
    figure: `vm list, ${LIST_VMS} VMs`,
    value: s(median(ms)),
    baseline: `${s(cliStart)} banger version; daemon ${daemonMs.toFixed(1)} ms`,
    target: "< 0.25 s",
    meets: median(ms) < 250,
  };
}

// --- 5. the idle daemon's memory ---

async function benchDaemonRss(): Promise<Row> {
  console.log(`\n5. bangerd resident memory, idle for ${SETTLE_MS / 1000} s after the above`);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const pid = await daemonPid();
  if (pid === undefined) throw new Error("bangerd is not running after the benches");
  const rss = await procMemBytes(pid);
  const peak = await procMemBytes(pid, "VmHWM");
  const nodeRss = await idleNodeRss();
  console.log(`   bangerd pid ${pid}: VmRSS ${mib(rss)}, peak (VmHWM) ${mib(peak)}`);
  return {
    figure: "bangerd VmRSS, idle",
    value: mib(rss),
    baseline: `${mib(nodeRss)} idle node`,
    target: "< 100 MiB",
    meets: rss < 100 * MIB,
  };
}

/** VmRSS of a node process doing nothing: the floor of any node daemon. */
async function idleNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10000)"], { stdio: "ignore" });
  track(child);
  try {
    await new Promise((r) => setTimeout(r, 1_000));
    return child.pid === undefined ? NaN : await procMemBytes(child.pid);
  } finally {
    stopChild(child, "SIGKILL", 0);
  }
}

async function main(runs: number): Promise<Row[]> {
  describe(runs);
  const copied = await prepareInstallation();
  if (copied.length > 0) console.log(`copied from the e2e state: ${copied.join(", ")}`);
  const rows: Row[] = [];
  const names: string[] = [];
  // Untimed: starts the daemon and builds the kernel and image if they are missing.
  const warm = `bench-${tag}-warmup`;
  trackVm(warm);
  const w = await bangerOk(["vm", "create", "--no-start", "--name", warm], 900_000);
  console.log(`warm-up create (starts bangerd, builds what is missing): ${s(w.ms)}`);
  await deleteVms([warm]);

  rows.push(await benchOverhead(runs));
  rows.push(...(await benchCreate(runs, names)));
  rows.push(await benchList(runs, names));
  await deleteVms(names);
  checkAborted();
  rows.push(await benchDaemonRss());
  return rows;
}

async function runBench(): Promise<void> {
  const runs = parseRuns(process.argv);
  const daemonWasUp = (await daemonPid()) !== undefined;
  const bridgeWasUp = linkExists(BRIDGE);
  const deadlineMs = 15 * 60_000 + runs * 2 * 240_000;
  const deadline = setTimeout(
    () => abort.abort(`deadline of ${deadlineMs / 60_000} min`),
    deadlineMs,
  );
  let firstSignalAt = 0;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      // `timeout` and a terminal may deliver one interrupt twice (to us and to our group).
      if (abort.signal.aborted && Date.now() - firstSignalAt > 2_000) process.exit(130);
      if (abort.signal.aborted) return;
      firstSignalAt = Date.now();
      console.error(`\nbench/core: ${signal}: cleaning up (again to quit at once)`);
      abort.abort(signal);
    });
  }
  // Quitting at once still takes the bare qemu down (setpriv's pdeathsig covers a SIGKILL).
  process.on("exit", () => killAllNow());
  try {
    printTable(await main(runs));
  } catch (err) {
    console.error(`bench/core: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = abort.signal.aborted ? 130 : 1;
  } finally {
    clearTimeout(deadline);
    const problems = await cleanupAll({ stopDaemon: !daemonWasUp, removeBridge: !bridgeWasUp });
    for (const p of problems) console.error(`bench/core: cleanup: ${p}`);
    if (problems.length > 0) process.exitCode = 1;
  }
}

void runBench();
