// `image pull` of a three-layer, ~300 MB image from a local registry into a ready ext4 image,
// against skopeo copy + umoci unpack + mkfs.ext4 -d of the same image; then a repeated pull.
// Prints figures; asserts nothing. Runs the image module in-process with a state dir of its own.
//   node --import tsx bench/pull.ts [--runs 3]
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Reporter } from "../src/api/progress.js";
import { pullImage } from "../src/image/index.js";
import { startRegistry, type TestRegistry } from "../src/oci/testing-registry.js";
import { resolvePaths } from "../src/paths/index.js";
import { dumpRootfs, pushLayers } from "../test/e2e/pull-fixture.js";

const runsArg = process.argv.indexOf("--runs");
const RUNS = Math.min(10, Math.max(1, runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 3));
const SOURCE = "/var/tmp/banger-e2e/state/images/debian-bookworm/rootfs.ext4";
const ROOT = `/var/tmp/banger-bench/pull-${process.pid}`;
const DEADLINE_MS = 15 * 60_000;
const STEP_TIMEOUT_MS = 5 * 60_000;
const FILLER_BYTES = 64 * 2 ** 20;

let reg: TestRegistry | undefined;

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: "ignore", timeout: STEP_TIMEOUT_MS });
}

function du(dir: string): string {
  return execFileSync("du", ["-sh", "--apparent-size", dir], { encoding: "utf8" }).split("\t")[0]!;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** Three layers: the base system (plus 64 MiB that does not compress), /usr/lib, /usr/share. */
async function buildAndPush(host: string): Promise<void> {
  const tree = path.join(ROOT, "tree");
  await dumpRootfs(SOURCE, tree);
  await mkdir(path.join(tree, "opt"), { recursive: true });
  await writeFile(path.join(tree, "opt/bench-filler"), randomBytes(FILLER_BYTES));
  const layers = [{ dir: tree, at: "/" }];
  for (const sub of ["usr/lib", "usr/share"]) {
    const moved = path.join(ROOT, sub.replace("/", "-"));
    await rename(path.join(tree, sub), moved);
    await mkdir(path.join(tree, sub));
    layers.push({ dir: moved, at: `/${sub}` });
  }
  console.log(`layers: ${layers.map((l) => `${l.at} ${du(l.dir)}`).join(", ")}`);
  await pushLayers(host, "bench/debian", "three-layers", layers);
}

/** Times one pull; with `steps`, prints how long each step took. */
async function bangerPull(
  ref: string,
  state: string,
  name: string,
  steps = false,
): Promise<number> {
  const paths = resolvePaths({ BANGER_STATE_DIR: state });
  const done: string[] = [];
  const report: Reporter = (e) => {
    if (e.type === "step" && e.status === "done") done.push(`${e.step} ${secs(e.durationMs)}`);
  };
  const { ms } = await timed(() => pullImage({ paths, ref, name, report }));
  if (steps) console.log(`  steps: ${done.join(", ")}`);
  return ms;
}

/** The tools' way to the same ext4 file, in a fresh dir each time. */
async function baselinePull(ref: string, i: number, sizeBytes: number): Promise<number> {
  const dir = path.join(ROOT, `base-${i}`);
  await mkdir(dir);
  const { ms } = await timed(() => {
    const layout = `${path.join(dir, "oci")}:t`;
    sh("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `oci:${layout}`]);
    sh("umoci", ["unpack", "--image", layout, path.join(dir, "bundle")]);
    const ext4 = path.join(dir, "rootfs.ext4");
    const rootfs = path.join(dir, "bundle/rootfs");
    sh("mkfs.ext4", ["-q", "-F", "-L", "base", "-d", rootfs, ext4, `${sizeBytes / 1024}k`]);
  });
  await rm(dir, { recursive: true, force: true });
  return ms;
}

async function main(): Promise<void> {
  if (!existsSync(SOURCE)) {
    console.error(`${SOURCE} is missing: run the end-to-end suite once (npm run test:e2e)`);
    process.exitCode = 1;
    return;
  }
  await mkdir(ROOT, { recursive: true });
  reg = await startRegistry();
  const ref = `${reg.host}/bench/debian:three-layers`;
  await buildAndPush(reg.host);

  const ours: number[] = [];
  const theirs: number[] = [];
  const size = 1024 * 2 ** 20;
  for (let i = 0; i < RUNS; i++) {
    const state = path.join(ROOT, `state-${i}`);
    ours.push(await bangerPull(ref, state, "bench", i === 0));
    if (i < RUNS - 1) await rm(state, { recursive: true, force: true });
    theirs.push(await baselinePull(ref, i, size));
    console.log(`run ${i + 1}: banger ${secs(ours[i]!)}, skopeo+umoci+mkfs ${secs(theirs[i]!)}`);
  }
  const last = path.join(ROOT, `state-${RUNS - 1}`);
  const again: number[] = [];
  const cacheHit: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    again.push(await bangerPull(ref, last, "bench"));
    cacheHit.push(await bangerPull(ref, last, `bench-${i}`, i === 0));
  }

  const ratio = median(ours) / median(theirs);
  console.log(`\ncold pull to ext4 (median of ${RUNS}):`);
  console.log(`  banger image pull         ${secs(median(ours))}`);
  console.log(`  skopeo + umoci + mkfs     ${secs(median(theirs))}`);
  console.log(`  ratio                     ${ratio.toFixed(2)} (target <= 1.0)`);
  console.log(`repeated pull of the same image into the same name: ${secs(median(again))}`);
  console.log(`  (target < 2 s; one manifest request, the published image is returned)`);
  console.log(`pull into a new name, every blob cached: ${secs(median(cacheHit))}`);
  console.log(`  (no download; unpack, configure and mkfs run again)`);
}

async function cleanup(): Promise<void> {
  await reg?.close();
  await rm(ROOT, { recursive: true, force: true });
}

const deadline = setTimeout(() => {
  console.error("bench/pull: over its time limit, stopping");
  void cleanup().finally(() => process.exit(1));
}, DEADLINE_MS);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => void cleanup().finally(() => process.exit(130)));
}
main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    clearTimeout(deadline);
    await cleanup();
  });
