// Workspace prepare against the plain way of doing the same job on the same VM, and a repeated
// prepare (a handful of files edited, then the same committed) against one plain `ssh <vm> true`
// (a fresh handshake each time). Prints figures; asserts nothing.
//   node --import tsx bench/workspace.ts [--files 20000] [--commits 300] [--runs 3]
import { execFileSync, spawn } from "node:child_process";
import { createReadStream, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  banger,
  bangerOk,
  median,
  CLI,
  ENV,
  prepareInstallation,
  runVmBench,
  STATE_DIR,
  trackDir,
  trackVm,
} from "./core-harness.js";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const FILES = arg("files", 20_000);
const COMMITS = arg("commits", 300);
const RUNS = arg("runs", 3);
const ROOT = `/var/tmp/banger-bench/ws-${process.pid}`;
const REPO = path.join(ROOT, "repo");
const VM = `wsbench-${process.pid}`;
const MIN = 60_000;

function git(...args: string[]): void {
  execFileSync("git", ["-C", REPO, ...args], {
    stdio: "ignore",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "b",
      GIT_AUTHOR_EMAIL: "b@e",
      GIT_COMMITTER_NAME: "b",
      GIT_COMMITTER_EMAIL: "b@e",
    },
  });
}

/** About 200 MB in FILES files over 200 directories, then COMMITS small commits. */
function makeRepo(): void {
  mkdirSync(REPO, { recursive: true });
  git("init", "-q", "-b", "main");
  const body = Buffer.alloc(10_000);
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(REPO, `d${i % 200}`);
    if (i < 200) mkdirSync(dir, { recursive: true });
    body.writeUInt32LE(i, 0);
    writeFileSync(path.join(dir, `f${i}.txt`), body);
  }
  git("add", "-A");
  git("commit", "-qm", "import");
  for (let c = 1; c < COMMITS; c++) {
    writeFileSync(path.join(REPO, "d0", `f0.txt`), `commit ${c}\n`);
    git("commit", "-qam", `change ${c}`);
  }
}

/** `banger vm ssh VM -- sh -c script` with `input` piped to it; wall ms. */
function sshPiped(script: string, input?: () => NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, "vm", "ssh", VM, "--", "sh", "-c", script], {
      env: ENV,
      stdio: [input ? "pipe" : "ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
    if (input) input().pipe(child.stdin!);
    child.on("close", (code) =>
      code === 0
        ? resolve(performance.now() - started)
        : reject(new Error(`${script}: ${code} ${err}`)),
    );
  });
}

function controlPath(id: string): string {
  return path.join(STATE_DIR, "vms", id, "ssh.mux");
}

/** One `ssh <vm> true` with banger's key and pinned host key, a new connection every time. */
function plainSsh(id: string, address: string): Promise<number> {
  const ssh = path.join(STATE_DIR, "ssh");
  const args = [
    ...["-F", "/dev/null", "-i", path.join(ssh, "id_ed25519"), "-o", "IdentitiesOnly=yes"],
    ...["-o", `UserKnownHostsFile=${path.join(ssh, "known_hosts")}`, "-o", `HostKeyAlias=${id}`],
    ...["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ControlPath=none"],
    ...["-l", "root", "--", address, "true"],
  ];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("ssh", args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    child.on("close", (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`ssh: ${code} ${err}`)),
    );
  });
}

/** The peer way: clone from a bundle of HEAD sent over ssh, then tar | ssh tar -x of the tree. */
async function baseline(run: number): Promise<number> {
  const bundle = path.join(ROOT, "head.bundle");
  const started = performance.now();
  execFileSync("git", ["-C", REPO, "bundle", "create", bundle, "HEAD", "main"], {
    stdio: "ignore",
  });
  const dir = `/root/baseline-${run}`;
  // git cannot clone a bundle shallowly; the bundle carries the whole (small) history instead.
  await sshPiped(`cat > /tmp/b.bundle && git clone -q /tmp/b.bundle ${dir}`, () =>
    createReadStream(bundle),
  );
  const tar = spawn("tar", ["-C", REPO, "--exclude=.git", "-cf", "-", "."]);
  await sshPiped(`tar -C ${dir} -xf -`, () => tar.stdout);
  return performance.now() - started;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  await prepareInstallation();
  trackDir(ROOT);
  process.stderr.write(`making a repository of ${FILES} files and ${COMMITS} commits...\n`);
  makeRepo();
  const sizeMb = Number(
    execFileSync("du", ["-sm", "--exclude=.git", REPO], { encoding: "utf8" }).split("\t")[0],
  );
  trackVm(VM);
  // Room for the workspace, its replacement during the swap, and the baseline's copies.
  await bangerOk(["vm", "run", "-d", "--name", VM, "--disk-size", "4G"], 10 * MIN);
  await bangerOk(["vm", "workspace", "prepare", VM, REPO], 10 * MIN); // warm caches on both sides

  const ours: number[] = [];
  const peer: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // --fresh: the whole tree every time, as a first prepare sends it, not an update.
    ours.push((await bangerOk(["vm", "workspace", "prepare", VM, REPO, "--fresh"], 10 * MIN)).ms);
    peer.push(await baseline(i));
  }
  const vm = JSON.parse((await bangerOk(["vm", "show", VM, "--json"], MIN)).stdout) as {
    id: string;
    address: string;
  };
  const repeat: number[] = [];
  const rtt: number[] = [];
  const cli: number[] = [];
  let how = "";
  for (let i = 0; i < RUNS; i++) {
    for (let f = 0; f < 5; f++) writeFileSync(path.join(REPO, `d${f}`, `f${f}.txt`), `edit ${i}\n`);
    const run = await bangerOk(["vm", "workspace", "prepare", VM, REPO], 10 * MIN);
    repeat.push(run.ms);
    how = /updated: [^)]*/.exec(run.stdout)?.[0] ?? "WHOLE TREE SENT";
    rtt.push(await plainSsh(vm.id, vm.address));
    cli.push((await banger(["vm", "ssh", VM, "--", "true"], MIN)).ms);
  }
  // The host commits the handful of edits: the guest's HEAD follows, still as an update.
  const committed: number[] = [];
  let movedHow = "";
  for (let i = 0; i < RUNS; i++) {
    for (let f = 0; f < 5; f++)
      writeFileSync(path.join(REPO, `d${f}`, `f${f}.txt`), `commit ${i}\n`);
    git("commit", "-qam", `bench commit ${i}`);
    const run = await bangerOk(["vm", "workspace", "prepare", VM, REPO], 10 * MIN);
    committed.push(run.ms);
    movedHow = /HEAD moved to/.test(run.stdout) ? "HEAD moved" : "WHOLE TREE SENT";
  }
  // Once more without the shared connection, as the first prepare after 10 idle minutes is.
  execFileSync(
    "ssh",
    ["-F", "/dev/null", "-o", `ControlPath=${controlPath(vm.id)}`, "-O", "exit", "x"],
    {
      stdio: "ignore",
    },
  );
  writeFileSync(path.join(REPO, "d0", "f0.txt"), "edit cold\n");
  const cold = (await bangerOk(["vm", "workspace", "prepare", VM, REPO], 10 * MIN)).ms;

  const r1 = median(ours) / median(peer);
  const r2 = median(repeat) / median(rtt);
  const line = (k: string, v: string): void => void process.stdout.write(`${k.padEnd(44)} ${v}\n`);
  process.stdout.write(
    `\nworkspace prepare, ${FILES} files, ${sizeMb} MB, ${COMMITS} commits, median of ${RUNS}\n`,
  );
  line("banger vm workspace prepare (shallow)", `${(median(ours) / 1000).toFixed(2)} s`);
  line("baseline: bundle + clone + tar|ssh", `${(median(peer) / 1000).toFixed(2)} s`);
  line("ratio (target <= 1.2)", `${r1.toFixed(2)} ${r1 <= 1.2 ? "meets" : "MISSES"}`);
  line("repeated prepare, 5 files changed", `${(median(repeat) / 1000).toFixed(2)} s (${how})`);
  line(
    "repeated prepare, 5 files committed",
    `${(median(committed) / 1000).toFixed(2)} s (${movedHow}; ${(median(committed) / median(rtt)).toFixed(2)}x ssh true)`,
  );
  line("one plain `ssh <vm> true`", `${(median(rtt) / 1000).toFixed(2)} s`);
  line("ratio (target <= 2)", `${r2.toFixed(2)} ${r2 <= 2 ? "meets" : "MISSES"}`);
  line("one `banger vm ssh VM -- true`, for scale", `${(median(cli) / 1000).toFixed(2)} s`);
  line("repeated prepare, no shared connection", `${(cold / 1000).toFixed(2)} s`);
  line("bench wall time", `${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

runVmBench("workspace", 40 * MIN, main);
