// Choosing the accelerator: KVM where it runs a standard guest, else TCG. The probe boot's
// answer is cached on disk, keyed by everything that could change it.
import { access, constants, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { BangerError, isErrno } from "../errors/index.js";
import { probeBoot } from "./kvm-probe.js";
import { resolveQemuBinary } from "./qemu-launch.js";
import type { Accel } from "./types.js";

export interface AccelChoice {
  accel: Accel;
  reason: string;
}

export interface ResolveAccelOptions {
  requested: "auto" | "kvm" | "tcg";
  kernelPath: string;
  cachePath: string;
  qemuBinary?: string;
  timeoutMs?: number;
}

/** What the cached answer depends on; any change means probing again. */
export interface ProbeKey {
  qemuBinary: string;
  qemuMtimeMs: number;
  kernelPath: string;
  kernelSizeBytes: number;
  kvmPresent: boolean;
}

export interface CacheFile {
  version: 1;
  key: ProbeKey;
  choice: AccelChoice;
}

const DEFAULT_PROBE_TIMEOUT_MS = 6000;
const KVM_DEVICE = "/dev/kvm";

export async function resolveAccel(opts: ResolveAccelOptions): Promise<AccelChoice> {
  if (opts.requested === "tcg") return { accel: "tcg", reason: 'accel = "tcg" is configured' };
  const kvmProblem = await kvmDeviceProblem();
  const choice =
    kvmProblem === undefined
      ? await probedChoice(opts)
      : { accel: "tcg" as const, reason: kvmProblem };
  if (opts.requested === "kvm" && choice.accel !== "kvm") {
    throw new BangerError("VMM_FAILED", `cannot use KVM: ${choice.reason}`, {
      hint: 'set accel = "tcg" (or "auto") in /etc/banger/config.toml',
    });
  }
  return choice;
}

async function kvmDeviceProblem(): Promise<string | undefined> {
  try {
    await access(KVM_DEVICE, constants.R_OK | constants.W_OK);
    return undefined;
  } catch (err) {
    if (isErrno(err, "ENOENT")) return `${KVM_DEVICE} does not exist`;
    if (isErrno(err, "EACCES")) return `${KVM_DEVICE} is not readable and writable by this user`;
    throw err;
  }
}

async function probedChoice(opts: ResolveAccelOptions): Promise<AccelChoice> {
  const qemu = await resolveQemuBinary(opts.qemuBinary ?? "qemu-system-x86_64");
  const key = await probeKey(qemu, opts.kernelPath);
  const cached = await readCachedChoice(opts.cachePath, key);
  if (cached !== undefined) return cached;

  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const result = await probeBoot(qemu, opts.kernelPath, "kvm", timeoutMs);
  const choice: AccelChoice = result.reached
    ? {
        accel: "kvm",
        reason: `a probe boot under KVM reached the kernel in ${result.elapsedMs} ms`,
      }
    : { accel: "tcg", reason: `${KVM_DEVICE} cannot run a standard guest: ${result.why}` };
  await writeCachedChoice(opts.cachePath, { version: 1, key, choice });
  return choice;
}

export async function probeKey(qemu: string, kernelPath: string): Promise<ProbeKey> {
  const qemuStat = await stat(qemu);
  let kernelSizeBytes: number;
  try {
    kernelSizeBytes = (await stat(kernelPath)).size;
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
    throw new BangerError(
      "KERNEL_NOT_FOUND",
      `cannot probe KVM: kernel "${kernelPath}" does not exist`,
      {
        hint: "banger kernel list",
        cause: err,
      },
    );
  }
  return {
    qemuBinary: qemu,
    qemuMtimeMs: qemuStat.mtimeMs,
    kernelPath: path.resolve(kernelPath),
    kernelSizeBytes,
    kvmPresent: true,
  };
}

export function sameKey(a: ProbeKey, b: ProbeKey): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof ProbeKey>;
  return [...keys].every((k) => a[k] === b[k]);
}

/** The cached choice for `key`; undefined when absent, stale, or unreadable (re-probed). */
export async function readCachedChoice(
  cachePath: string,
  key: ProbeKey,
): Promise<AccelChoice | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(cachePath, "utf8"));
  } catch (err) {
    if (isErrno(err, "ENOENT") || err instanceof SyntaxError) return undefined;
    throw err;
  }
  if (!isCacheFile(parsed) || !sameKey(parsed.key, key)) return undefined;
  return parsed.choice;
}

function isCacheFile(v: unknown): v is CacheFile {
  if (typeof v !== "object" || v === null) return false;
  const c = v as Partial<CacheFile>;
  return (
    c.version === 1 &&
    typeof c.key === "object" &&
    c.key !== null &&
    typeof c.choice === "object" &&
    c.choice !== null &&
    (c.choice.accel === "kvm" || c.choice.accel === "tcg") &&
    typeof c.choice.reason === "string"
  );
}

/** Written to a temporary file and renamed, so a reader never sees half a file. */
export async function writeCachedChoice(cachePath: string, file: CacheFile): Promise<void> {
  await mkdir(path.dirname(cachePath), { recursive: true });
  const tmp = `${cachePath}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`);
  await rename(tmp, cachePath);
}
