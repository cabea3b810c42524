// Measures the .vm DNS server against dnsmasq serving the same names from a hosts file: a
// closed-loop UDP load on 127.0.0.1, each server in its own process. Prints, never asserts.
// Run: node --import tsx bench/dns.ts
import { spawn, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import dnsPacket from "dns-packet";
import { startDnsServer } from "../src/dns/index.js";
import { which } from "../src/host/index.js";

const QUERIES = 20_000;
const WARMUP_QUERIES = 2_000;
const IN_FLIGHT = 32;
const NAME_COUNT = 100;
const QUERY_TIMEOUT_MS = 1_000;
const READY_TIMEOUT_MS = 5_000;
/** The whole run, whatever happens; then everything is killed. */
const BENCH_DEADLINE_MS = 120_000;

const NAMES = Array.from({ length: NAME_COUNT }, (_, i) => `vm-${i}`);
const addressOf = (i: number): string => `172.16.${Math.floor(i / 250)}.${(i % 250) + 2}`;

interface LoadResult {
  qps: number;
  medianMs: number;
  p99Ms: number;
  lost: number;
  wrong: number;
}

// --- the banger server, run as a child so it gets a core of its own like dnsmasq ---

async function serve(): Promise<void> {
  const table = new Map(NAMES.map((n, i) => [n, addressOf(i)]));
  const server = await startDnsServer({
    host: "127.0.0.1",
    port: 0,
    records: { lookup: (n) => table.get(n), reverse: () => undefined },
  });
  process.stdout.write(`${server.address.port}\n`);
  // The parent holds our stdin: when it goes away, for any reason, so do we.
  process.stdin.resume();
  process.stdin.on("close", () => void server.close().then(() => process.exit(0)));
}

// --- the load ---

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** Sends `total` A queries, `IN_FLIGHT` at a time, each as soon as a reply frees a slot. */
function runLoad(port: number, total: number): Promise<LoadResult> {
  const templates = NAMES.map((name) =>
    dnsPacket.encode({
      type: "query",
      id: 0,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: "A", name: `${name}.vm` }],
    }),
  );
  const socket = dgram.createSocket("udp4");
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let sent = 0;
  let lost = 0;
  let wrong = 0;
  let nextId = 0;

  return new Promise((resolve) => {
    const started = performance.now();
    const sendOne = (): void => {
      if (sent >= total) return;
      const msg = Buffer.from(templates[sent % templates.length] ?? Buffer.alloc(0));
      const id = nextId;
      nextId = (nextId + 1) & 0xffff;
      msg.writeUInt16BE(id, 0);
      sentAt.set(id, performance.now());
      sent++;
      socket.send(msg, port, "127.0.0.1");
    };
    const settle = (): void => {
      if (latencies.length + lost + wrong < total) {
        sendOne();
        return;
      }
      const elapsedS = (performance.now() - started) / 1000;
      clearInterval(sweeper);
      socket.close();
      latencies.sort((a, b) => a - b);
      const qps = latencies.length / elapsedS;
      resolve({
        qps,
        medianMs: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        lost,
        wrong,
      });
    };

    socket.on("message", (reply) => {
      if (reply.length < 12) return;
      const at = sentAt.get(reply.readUInt16BE(0));
      if (at === undefined) return;
      sentAt.delete(reply.readUInt16BE(0));
      const answered = (reply.readUInt16BE(2) & 0xf) === 0 && reply.readUInt16BE(6) === 1;
      if (answered) latencies.push(performance.now() - at);
      else wrong++;
      settle();
    });
    // A lost datagram would otherwise hold its slot forever.
    const sweeper = setInterval(() => {
      const now = performance.now();
      for (const [id, at] of sentAt) {
        if (now - at < QUERY_TIMEOUT_MS) continue;
        sentAt.delete(id);
        lost++;
        settle();
      }
    }, 100);
    for (let i = 0; i < IN_FLIGHT; i++) sendOne();
  });
}

async function waitUntilAnswering(port: number, what: string): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const probe = await runLoad(port, 1);
    if (probe.lost === 0 && probe.wrong === 0) return;
  }
  throw new Error(`${what} on 127.0.0.1:${port} did not answer within ${READY_TIMEOUT_MS} ms`);
}

// --- processes ---

const children = new Set<ChildProcess>();

const stderrTails = new Map<ChildProcess, string>();

/** Starts a child whose stderr is kept (its tail) for error messages instead of printed. */
function startChild(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  child.on("exit", () => children.delete(child));
  child.stderr?.on("data", (chunk: Buffer) => {
    stderrTails.set(child, ((stderrTails.get(child) ?? "") + chunk.toString()).slice(-2000));
  });
  return child;
}

async function waitForChild(child: ChildProcess, port: number, what: string): Promise<void> {
  try {
    await waitUntilAnswering(port, what);
  } catch (err) {
    const tail = stderrTails.get(child)?.trim() ?? "";
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${tail}`, { cause: err });
  }
}

async function stopChildren(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const force = setTimeout(() => child.kill("SIGKILL"), 1_000);
          child.once("exit", () => {
            clearTimeout(force);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

async function startDnsmasq(dnsmasq: string, hostsFile: string): Promise<number> {
  const port = await freeUdpPort();
  const args = [
    "--no-daemon",
    `--port=${port}`,
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
    "--no-resolv",
    "--no-hosts",
    `--addn-hosts=${hostsFile}`,
    "--conf-file=/dev/null",
  ];
  // pdeathsig kills dnsmasq even if this process is itself killed with SIGKILL.
  const setpriv = await which("setpriv");
  const child =
    setpriv === undefined
      ? startChild(dnsmasq, args)
      : startChild(setpriv, ["--pdeathsig", "KILL", "--", dnsmasq, ...args]);
  await waitForChild(child, port, "dnsmasq");
  return port;
}

async function startBanger(): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const child = startChild(process.execPath, [...process.execArgv, self, "--serve"]);
  if (child.stdout === null) throw new Error("banger DNS child has no stdout");
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`banger DNS child exited with ${code}`)));
  });
  const port = Number(first);
  await waitForChild(child, port, "banger DNS");
  return port;
}

// --- report ---

function row(label: string, r: LoadResult): string {
  const cells = [
    label.padEnd(10),
    r.qps.toFixed(0).padStart(10),
    r.medianMs.toFixed(3).padStart(10),
    r.p99Ms.toFixed(3).padStart(10),
    String(r.lost).padStart(6),
    String(r.wrong).padStart(6),
  ];
  return cells.join("  ");
}

function report(banger: LoadResult, dnsmasq: LoadResult): void {
  const head = ["server".padEnd(10), "queries/s", "median ms", "p99 ms", "lost", "wrong"];
  console.log(head.map((h, i) => (i === 0 ? h : h.padStart(i < 4 ? 10 : 6))).join("  "));
  console.log(row("banger", banger));
  console.log(row("dnsmasq", dnsmasq));
  const ratio = (a: number, b: number): string => (a / b).toFixed(2);
  console.log(
    `banger/dnsmasq: throughput ${ratio(banger.qps, dnsmasq.qps)}x (target >= 0.5), ` +
      `median ${ratio(banger.medianMs, dnsmasq.medianMs)}x, p99 ${ratio(banger.p99Ms, dnsmasq.p99Ms)}x; ` +
      `banger median ${banger.medianMs < 1 ? "under" : "OVER"} 1 ms`,
  );
}

async function main(): Promise<void> {
  const dnsmasq = await which("dnsmasq");
  if (dnsmasq === undefined) {
    console.error("bench/dns: dnsmasq is not installed\nhint: apt-get install -y dnsmasq-base");
    process.exitCode = 1;
    return;
  }
  const dir = await mkdtemp(path.join(tmpdir(), "banger-dns-bench-"));
  try {
    const hostsFile = path.join(dir, "hosts");
    await writeFile(hostsFile, NAMES.map((n, i) => `${addressOf(i)} ${n}.vm\n`).join(""));
    const [bangerPort, dnsmasqPort] = [await startBanger(), await startDnsmasq(dnsmasq, hostsFile)];

    console.log(
      `${QUERIES} A queries over ${NAME_COUNT} .vm names, ${IN_FLIGHT} in flight, ` +
        `UDP on 127.0.0.1 (after ${WARMUP_QUERIES} warm-up queries each)`,
    );
    const results: LoadResult[] = [];
    for (const port of [bangerPort, dnsmasqPort]) {
      await runLoad(port, WARMUP_QUERIES);
      results.push(await runLoad(port, QUERIES));
    }
    const [banger, masq] = results;
    if (banger !== undefined && masq !== undefined) report(banger, masq);
  } finally {
    await stopChildren();
    await rm(dir, { recursive: true, force: true });
  }
}

function runBench(): void {
  const deadline = setTimeout(() => {
    console.error(`bench/dns: gave up after ${BENCH_DEADLINE_MS} ms`);
    void stopChildren().then(() => process.exit(1));
  }, BENCH_DEADLINE_MS);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void stopChildren().then(() => process.exit(130)));
  }
  // Last resort for paths that skip the finally above (an uncaught throw, process.exit).
  process.on("exit", () => children.forEach((c) => c.kill("SIGKILL")));
  main()
    .catch((err: unknown) => {
      console.error(`bench/dns: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
      return stopChildren();
    })
    .finally(() => clearTimeout(deadline));
}

if (process.argv.includes("--serve")) void serve();
else runBench();
