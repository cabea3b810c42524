// Workspace prepare against the plain way of doing the same job on the same VM, and a repeated
// prepare against one SSH round trip. Prints figures; asserts nothing.
//   node --import tsx bench/workspace.ts [--files 20000] [--commits 300] [--runs 3]
import { execFileSync, spawn } from "node:child_process";
import { createReadStream, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  abort,
  banger,
  bangerOk,
  cleanupAll,
  CLI,
  ENV,
  prepareInstallation,
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

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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
    ours.push((await bangerOk(["vm", "workspace", "prepare", VM, REPO], 10 * MIN)).ms);
    peer.push(await baseline(i));
  }
  const repeat: number[] = [];
  const rtt: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    for (let f = 0; f < 5; f++) writeFileSync(path.join(REPO, `d${f}`, `f${f}.txt`), `edit ${i}\n`);
    repeat.push((await bangerOk(["vm", "workspace", "prepare", VM, REPO], 10 * MIN)).ms);
    rtt.push((await banger(["vm", "ssh", VM, "--", "true"], MIN)).ms);
  }

  const r1 = median(ours) / median(peer);
  const r2 = median(repeat) / median(rtt);
  const line = (k: string, v: string): void => void process.stdout.write(`${k.padEnd(44)} ${v}\n`);
  process.stdout.write(
    `\nworkspace prepare, ${FILES} files, ${sizeMb} MB, ${COMMITS} commits, median of ${RUNS}\n`,
  );
  line("banger vm workspace prepare (shallow)", `${(median(ours) / 1000).toFixed(2)} s`);
  line("baseline: bundle + clone + tar|ssh", `${(median(peer) / 1000).toFixed(2)} s`);
  line("ratio (target <= 1.2)", `${r1.toFixed(2)} ${r1 <= 1.2 ? "meets" : "MISSES"}`);
  line("repeated prepare, 5 files changed", `${(median(repeat) / 1000).toFixed(2)} s`);
  line("one `banger vm ssh VM -- true`", `${(median(rtt) / 1000).toFixed(2)} s`);
  line("ratio (target <= 2)", `${r2.toFixed(2)} ${r2 <= 2 ? "meets" : "MISSES"}`);
  line("bench wall time", `${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

const deadline = setTimeout(() => abort.abort("deadline"), 40 * MIN);
process.on("SIGINT", () => abort.abort("SIGINT"));
main()
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    clearTimeout(deadline);
    const problems = await cleanupAll({ stopDaemon: false, removeBridge: false });
    for (const p of problems) process.stderr.write(`cleanup: ${p}\n`);
  });
