// Private: prepareWorkspace, from the host checkout to a workspace renamed into place in the VM.
import { step, type Reporter } from "../api/progress.js";
import { FINISH_FULL_COPY, FINISH_SHALLOW } from "./guest-scripts.js";
import { checkGuestPath, defaultGuestPath, previousPath, stagingPath } from "./guest-path.js";
import {
  beginStaging,
  checkRoom,
  discardStaging,
  guestError,
  runScript,
  toExit,
  type Staging,
} from "./guest-staging.js";
import { resolveHostRepo, type HostRepo } from "./host-repo.js";
import { planWorkspace, type Plan } from "./plan.js";
import { sendObjects, sendTree } from "./send.js";
import type { PrepareWorkspaceOptions, WorkspaceResult } from "./types.js";

export async function prepareWorkspace(opts: PrepareWorkspaceOptions): Promise<WorkspaceResult> {
  const { report } = opts;
  const repo = await step(report, "workspace-scan", `Reading checkout "${opts.hostPath}"`, () =>
    resolveHostRepo(opts.hostPath),
  );
  const guestPath = checkGuestPath(opts.guestPath ?? defaultGuestPath(repo.top));
  const plan = await planWorkspace(repo, opts);
  reportNotes(report, plan, opts);

  const result: WorkspaceResult = {
    guestPath,
    hostPath: repo.top,
    commit: plan.commit,
    files: plan.tree.files,
    bytes: plan.tree.bytes,
  };
  if (opts.dryRun) return { ...result, listing: plan.tree.paths };

  const staging = await step(
    report,
    "workspace-stage",
    `Making room for "${guestPath}"`,
    async () => {
      const made = await beginStaging(opts.target, guestPath, stagingPath(guestPath), opts.mode);
      await guard(made, async () => checkRoom(made, plan.tree.bytes));
      return made;
    },
  );
  await guard(staging, () => fill(staging, repo, plan, opts));
  return result;
}

// Any failure after the staging dir exists removes it: the previous workspace stays untouched.
async function guard(staging: Staging, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    await discardStaging(staging);
    throw err;
  }
}

async function fill(
  staging: Staging,
  repo: HostRepo,
  plan: Plan,
  opts: PrepareWorkspaceOptions,
): Promise<void> {
  const { report, signal } = opts;
  const shallow = opts.mode === "shallow";
  const commit = plan.commit;
  if (shallow && commit !== null) {
    await step(report, "workspace-objects", `Sending commit ${commit.slice(0, 12)}`, () =>
      sendObjects(staging, repo.top, commit, signal),
    );
  }
  if (plan.checkout === "overlay" && plan.tree.paths.length > 0) {
    const paths = shallow ? plan.tree.paths : "all";
    const mib = (plan.tree.bytes / (1024 * 1024)).toFixed(1);
    const message = `Copying ${plan.tree.files} files (${mib} MiB)`;
    await step(report, "workspace-copy", message, () =>
      sendTree(staging, repo.top, {
        paths,
        bytes: plan.tree.bytes,
        report,
        ...(signal === undefined ? {} : { signal }),
      }),
    );
  }
  await step(report, "workspace-finish", `Putting the workspace at "${staging.guestPath}"`, () =>
    finish(staging, repo, plan, opts),
  );
}

async function finish(
  staging: Staging,
  repo: HostRepo,
  plan: Plan,
  opts: PrepareWorkspaceOptions,
): Promise<void> {
  const script = opts.mode === "shallow" ? FINISH_SHALLOW : FINISH_FULL_COPY;
  const result = await runScript(staging.target, script, finishArgs(staging, repo, plan, opts));
  if (result.code === 0) return;
  const exit = toExit(result);
  throw guestError(staging.target, staging.guestPath, "cannot finish it", exit, staging);
}

// The positional arguments that FINISH_SHALLOW and FINISH_FULL_COPY document.
function finishArgs(
  staging: Staging,
  repo: HostRepo,
  plan: Plan,
  opts: PrepareWorkspaceOptions,
): string[] {
  const { guestPath, dir } = staging;
  const swap = [guestPath, dir, previousPath(guestPath)];
  const identity = [repo.userName ?? "", repo.userEmail ?? ""];
  if (opts.mode === "shallow") {
    return [...swap, plan.commit ?? "", plan.headRef ?? "", plan.checkout, ...identity];
  }
  const start = opts.from === undefined ? "" : (plan.commit ?? "");
  return [...swap, opts.branch ?? "", start, ...identity];
}

function reportNotes(report: Reporter, plan: Plan, opts: PrepareWorkspaceOptions): void {
  const left = plan.tree.untrackedLeftOut;
  if (left > 0) {
    report({
      type: "note",
      level: "info",
      message: `${left} untracked files not sent; add --include-untracked to send them`,
    });
  }
  for (const skipped of plan.tree.skipped) {
    report({ type: "note", level: "warn", message: `not sent: ${skipped}` });
  }
  if (plan.checkout === "clean") {
    report({
      type: "note",
      level: "info",
      message: `branch "${opts.branch}" starts at ${opts.from}: local changes are not sent`,
    });
  }
}
