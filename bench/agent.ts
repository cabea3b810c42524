// The guest agent against SSH on the same boot: time from the VMM's start until the agent
// answers `health`, and until sshd sends its banner. Then `vm ports` latency on a running VM.
// Prints figures; asserts nothing.   node --import tsx bench/agent.ts [--runs 3]
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { request } from "node:http";
import { connect } from "node:net";
import path from "node:path";
import {
  bangerOk,
  median,
  CLI,
  deleteVms,
  ENV,
  prepareInstallation,
  runVmBench,
  RUN_DIR,
  STATE_DIR,
  trackVm,
} from "./core-harness.js";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 3;
const MIN = 60_000;

/** Resolves once host:22 sends "SSH-"; polls every 50 ms until `deadline`. */
async function sshBanner(host: string, deadline: number): Promise<number> {
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect({ host, port: 22, timeout: 1000 });
      sock.once("data", (d) => {
        sock.destroy();
        resolve(d.toString("latin1").startsWith("SSH-"));
      });
      sock.once("timeout", () => (sock.destroy(), resolve(false)));
      sock.once("error", () => resolve(false));
    });
    if (ok) return performance.now();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no SSH banner from ${host}`);
}

/** One boot: agent and SSH readiness, both measured from the end of the VMM launch. */
async function oneBoot(i: number): Promise<{ agentMs: number; sshMs: number }> {
  const name = `agentbench-${process.pid}-${i}`;
  trackVm(name);
  await bangerOk(["vm", "create", "--no-start", "--name", name], 5 * MIN);
  const vm = JSON.parse((await bangerOk(["vm", "show", name, "--json"], MIN)).stdout) as {
    id: string;
  };
  const handles = path.join(STATE_DIR, "vms", vm.id, "handles.json");

  const child = spawn(process.execPath, [CLI, "vm", "start", name, "--json"], { env: ENV });
  let launched = 0;
  let agentAt = 0;
  let buffer = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    buffer += c;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith("{")) continue;
      const e = JSON.parse(line) as { type: string; step?: string; status?: string };
      if (e.type === "step" && e.status === "done" && e.step === "launch")
        launched = performance.now();
      if (e.type === "step" && e.status === "done" && e.step === "agent")
        agentAt = performance.now();
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));

  // The address is known once the daemon wrote the handles; then watch SSH ourselves.
  let address: string | undefined;
  const deadline = Date.now() + 5 * MIN;
  while (!address && Date.now() < deadline) {
    try {
      address = (JSON.parse(await readFile(handles, "utf8")) as { address: string }).address;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const sshAt = await sshBanner(address!, deadline);
  if ((await exited) !== 0) throw new Error(`vm start ${name} failed`);
  await deleteVms([name]);
  return { agentMs: agentAt - launched, sshMs: sshAt - launched };
}

function apiPorts(name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      { socketPath: path.join(RUN_DIR, "bangerd.sock"), path: `/v1/vms/${name}/ports` },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode === 200
            ? resolve(performance.now() - started)
            : reject(new Error(`${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function main(): Promise<void> {
  await prepareInstallation();
  const boots: { agentMs: number; sshMs: number }[] = [];
  for (let i = 0; i < RUNS; i++) boots.push(await oneBoot(i));

  const name = `portsbench-${process.pid}`;
  trackVm(name);
  await bangerOk(["vm", "run", "-d", "--name", name], 5 * MIN);
  const api: number[] = [];
  for (let i = 0; i < 20; i++) api.push(await apiPorts(name));
  const cli: number[] = [];
  for (let i = 0; i < 5; i++) cli.push((await bangerOk(["vm", "ports", name], MIN)).ms);
  await deleteVms([name]);

  const agent = median(boots.map((b) => b.agentMs));
  const ssh = median(boots.map((b) => b.sshMs));
  const line = (k: string, v: string): void => void process.stdout.write(`${k.padEnd(46)} ${v}\n`);
  process.stdout.write(
    `\nguest agent vs SSH, median of ${RUNS} boots (from the end of the VMM launch)\n`,
  );
  for (const [i, b] of boots.entries()) {
    line(
      `boot ${i + 1}: agent / SSH`,
      `${(b.agentMs / 1000).toFixed(2)} s / ${(b.sshMs / 1000).toFixed(2)} s`,
    );
  }
  line("agent answers health", `${(agent / 1000).toFixed(2)} s`);
  line("sshd sends its banner (baseline)", `${(ssh / 1000).toFixed(2)} s`);
  line(
    "difference (SSH - agent)",
    `${((ssh - agent) / 1000).toFixed(2)} s, ratio ${(agent / ssh).toFixed(2)}`,
  );
  line(
    "vm ports over the API, median of 20",
    `${median(api).toFixed(0)} ms (target < 200 ms) ${median(api) < 200 ? "meets" : "MISSES"}`,
  );
  line(
    "`banger vm ports` CLI wall time, median of 5",
    `${median(cli).toFixed(0)} ms (includes starting node)`,
  );
}

runVmBench("agent", 30 * MIN, main);
