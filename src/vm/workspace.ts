import type { Reporter, WorkspaceRequest } from "../api/index.js";
import { BangerError } from "../errors/index.js";
import { sshMasterOpen, waitForSsh } from "../guest/index.js";
import { vmFiles } from "../paths/index.js";
import type { VmRecord } from "../store/index.js";
import {
  exportWorkspace,
  prepareWorkspace,
  type PrepareWorkspaceOptions,
  type WorkspaceResult,
} from "../workspace/index.js";
import type { VmContext } from "./context.js";
import { readHandles } from "./handles.js";
import { refreshVm } from "./reconcile.js";
import { sharedSshTarget } from "./runtime.js";
import { assertCanDo } from "./state.js";

const SSH_READY_TIMEOUT_MS = 60_000;

function options(
  req: WorkspaceRequest,
  report: Reporter,
  signal: AbortSignal | undefined,
): Omit<PrepareWorkspaceOptions, "target"> {
  return {
    hostPath: req.hostPath,
    mode: req.mode ?? "shallow",
    includeUntracked: req.includeUntracked === true,
    dryRun: req.dryRun === true,
    fresh: req.fresh === true,
    report,
    ...(req.guestPath === undefined ? {} : { guestPath: req.guestPath }),
    ...(req.branch === undefined ? {} : { branch: req.branch }),
    ...(req.from === undefined ? {} : { from: req.from }),
    ...(signal ? { signal } : {}),
  };
}

/**
 * Checks a checkout and lists what a prepare would send, touching no VM: `vm run <path>` calls
 * it before creating anything, so a bad path costs no VM.
 */
export function planWorkspace(req: WorkspaceRequest, report: Reporter): Promise<WorkspaceResult> {
  // A dry run never connects; the target only has to be well formed.
  const target = {
    host: "127.0.0.1",
    alias: "dry-run",
    keyPath: "/dev/null",
    knownHostsPath: "/dev/null",
  };
  return prepareWorkspace({ ...options({ ...req, dryRun: true }, report, undefined), target });
}

async function runningTarget(
  ctx: VmContext,
  vm: VmRecord,
): Promise<ReturnType<typeof sharedSshTarget>> {
  assertCanDo("ssh", vm.name, vm.state);
  const handles = await readHandles(vmFiles(ctx.paths, vm.id).handles);
  if (!handles) throw new BangerError("VM_INVALID_STATE", `VM "${vm.name}" has no address`);
  // One connection for the several commands of a prepare or export, kept for the next one;
  // while it is open, the guest's sshd has answered already.
  const target = sharedSshTarget(ctx, vm, handles.address);
  if (target.controlPath === undefined || !(await sshMasterOpen(target.controlPath))) {
    await waitForSsh(handles.address, { timeoutMs: SSH_READY_TIMEOUT_MS });
  }
  return target;
}

/** Copies a checkout into a running VM and records it on the VM (not for a dry run). */
export async function prepareVmWorkspace(
  ctx: VmContext,
  ref: VmRecord,
  req: WorkspaceRequest,
  opts: { report: Reporter; signal?: AbortSignal | undefined },
): Promise<WorkspaceResult> {
  return ctx.locks.with(ref.id, async () => {
    const vm = await refreshVm(ctx, ref);
    if (req.dryRun) return planWorkspace(req, opts.report);
    const target = await runningTarget(ctx, vm);
    const result = await prepareWorkspace({
      ...options(req, opts.report, opts.signal),
      target,
      manifestPath: vmFiles(ctx.paths, vm.id).workspaceManifest,
    });
    ctx.store.setWorkspace(vm.id, {
      guestPath: result.guestPath,
      hostPath: result.hostPath,
      commit: result.commit,
      preparedAt: new Date().toISOString(),
    });
    return result;
  });
}

/**
 * The guest's changes as a binary patch against `baseCommit`, by default the commit the
 * workspace was prepared from. The guest repository is left as it was.
 */
export async function exportVmWorkspace(
  ctx: VmContext,
  ref: VmRecord,
  req: { baseCommit?: string | undefined; guestPath?: string | undefined },
): Promise<Buffer> {
  const vm = await refreshVm(ctx, ref);
  const guestPath = req.guestPath ?? vm.workspace?.guestPath;
  if (guestPath === undefined) {
    throw new BangerError("USAGE", `VM "${vm.name}" has no workspace to export`, {
      hint: `banger vm workspace prepare ${vm.name} <path>`,
    });
  }
  const target = await runningTarget(ctx, vm);
  const base = req.baseCommit ?? vm.workspace?.commit ?? null;
  const { patch } = await exportWorkspace({ target, guestPath, baseCommit: base });
  return patch;
}
