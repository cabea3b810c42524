import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { step, type CreateVmRequest, type Reporter } from "../api/index.js";
import { LIMITS, mibToBytes, parseDurationMs, parseSizeMib } from "../config/index.js";
import { BangerError } from "../errors/index.js";
import { generateHostKey } from "../guest/index.js";
import {
  createRootOverlay,
  createWorkDisk,
  DEFAULT_IMAGE,
  ensureDefaultImage,
  getImage,
  type ImageInfo,
} from "../image/index.js";
import { ensureKernel, getKernel, KERNEL_CATALOG, type KernelInfo } from "../kernel/index.js";
import { vmFiles } from "../paths/index.js";
import type { VmRecord } from "../store/index.js";
import type { VmContext } from "./context.js";
import { generateName, validateName } from "./names.js";
import { bootVm, releaseRuntime } from "./runtime.js";

export interface CreateOptions {
  report: Reporter;
  signal?: AbortSignal | undefined;
}

interface ResolvedSpec {
  name: string;
  vcpus: number;
  memoryMib: number;
  diskSizeMib: number;
  bootTimeoutMs: number | undefined;
}

/** Checks a create request against the rules and fills in defaults; throws usage errors. */
export function resolveSpec(ctx: VmContext, req: CreateVmRequest): ResolvedSpec {
  const d = ctx.config.defaults;
  const name =
    req.name === undefined
      ? generateName((n) => ctx.store.getVmByName(n) !== undefined)
      : validateName(req.name);
  const vcpus = req.vcpus ?? d.vcpus;
  if (!Number.isInteger(vcpus) || vcpus < LIMITS.vcpus.min || vcpus > LIMITS.vcpus.max) {
    throw new BangerError(
      "INVALID_ARGUMENT",
      `invalid --vcpu "${vcpus}": must be a whole number from ${LIMITS.vcpus.min} to ${LIMITS.vcpus.max}`,
    );
  }
  return {
    name,
    vcpus,
    memoryMib:
      req.memory === undefined ? d.memoryMib : parseSizeMib(req.memory, "--memory", LIMITS.memory),
    diskSizeMib:
      req.diskSize === undefined
        ? d.diskSizeMib
        : parseSizeMib(req.diskSize, "--disk-size", LIMITS.diskSize),
    bootTimeoutMs:
      req.bootTimeout === undefined
        ? undefined
        : parseDurationMs(req.bootTimeout, "--boot-timeout"),
  };
}

/**
 * Creates a VM and, unless `start` is false, boots it until SSH answers. A failure before the
 * VMM runs, or an interrupted create, leaves nothing behind; a VM whose boot or SSH wait
 * failed stays in state `error` for `banger vm logs`.
 */
export async function createVm(
  ctx: VmContext,
  req: CreateVmRequest,
  opts: CreateOptions,
): Promise<VmRecord> {
  const spec = resolveSpec(ctx, req);
  const { report, signal } = opts;
  if (ctx.store.getVmByName(spec.name)) {
    throw new BangerError("VM_NAME_TAKEN", `cannot create VM "${spec.name}": the name is taken`, {
      hint: `choose another --name, or remove it with: banger vm delete ${spec.name}`,
    });
  }

  const image = await resolveImage(ctx, req.image ?? ctx.config.defaults.image, report, signal);
  if (image.needsNat === true && req.nat !== true) {
    const message =
      `image "${image.name}" installs the systemd or sshd it lacks on its first boot, ` +
      "which needs the network: create it with --nat, " +
      `or run \`banger vm set ${spec.name} --nat\` and ` +
      `\`banger vm restart ${spec.name}\``;
    report({ type: "note", level: "warn", message });
  }
  const kernel = await resolveKernel(
    ctx,
    req.kernel ?? image.kernel ?? ctx.config.defaults.kernel,
    report,
    signal,
  );
  signal?.throwIfAborted();

  const now = new Date().toISOString();
  const vm: VmRecord = {
    id: randomBytes(8).toString("hex"),
    name: spec.name,
    image: image.name,
    kernel: kernel.name,
    vcpus: spec.vcpus,
    memoryMib: spec.memoryMib,
    diskSizeMib: spec.diskSizeMib,
    nat: req.nat === true,
    state: "created",
    lastError: null,
    createdAt: now,
    updatedAt: now,
  };
  const files = vmFiles(ctx.paths, vm.id);
  ctx.store.insertVm(vm);
  if (req.nat === true) ctx.store.setVmNat(vm.id, true);
  const progress = { launched: false };
  try {
    await step(report, "disks", "Creating disks", async () => {
      await mkdir(files.dir, { recursive: true, mode: 0o700 });
      await createRootOverlay({ baseRawPath: image.rootfsPath, overlayPath: files.rootOverlay });
      await createWorkDisk({
        path: files.workDisk,
        sizeBytes: mibToBytes(spec.diskSizeMib),
        ...(image.rootSkelDir === undefined ? {} : { skelDir: image.rootSkelDir }),
      });
      await generateHostKey(files.hostKey);
    });
    signal?.throwIfAborted();
    if (req.start === false) return vm;

    ctx.store.setVmState(vm.id, "starting");
    await bootVm(ctx, vm, {
      report,
      signal,
      bootTimeoutMs: spec.bootTimeoutMs,
      waitForSsh: req.waitForSsh === true,
      progress,
    });
    ctx.store.setVmState(vm.id, "running");
    return { ...vm, state: "running" };
  } catch (err) {
    if (progress.launched && !signal?.aborted) {
      ctx.store.setVmState(vm.id, "error", errorText(err));
    } else {
      await releaseRuntime(ctx, vm);
      await rm(files.dir, { recursive: true, force: true });
      ctx.store.deleteVm(vm.id);
    }
    throw err;
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function resolveImage(
  ctx: VmContext,
  name: string,
  report: Reporter,
  signal: AbortSignal | undefined,
): Promise<ImageInfo> {
  if (name !== DEFAULT_IMAGE) return getImage(ctx.paths, name);
  return ensureDefaultImage({
    paths: ctx.paths,
    mirror: ctx.config.mirror,
    report,
    ...(signal ? { signal } : {}),
  });
}

async function resolveKernel(
  ctx: VmContext,
  name: string,
  report: Reporter,
  signal: AbortSignal | undefined,
): Promise<KernelInfo> {
  if (!(name in KERNEL_CATALOG)) return getKernel(ctx.paths, name);
  return ensureKernel({
    paths: ctx.paths,
    name,
    mirror: ctx.config.mirror,
    report,
    ...(signal ? { signal } : {}),
  });
}
