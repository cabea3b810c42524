// Private: prepareWorkspace, from the host checkout to a workspace renamed into place in the VM.
import { step, type Reporter } from "../api/progress.js";
import { FINISH_FULL_COPY, FINISH_SHALLOW } from "./guest-scripts.js";
import {
  checkGuestPath,
  defaultGuestPath,
  previousPath,
  stagingPath,
  stampPath,
} from "./guest-path.js";
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
import type { HeadMove } from "./head-move.js";
import { startProbe, updateWorkspace } from "./incremental.js";
import {
  newToken,
  readManifest,
  removeManifest,
  writeManifest,
  type Manifest,
} from "./manifest.js";
import { planWorkspace, type Plan } from "./plan.js";
import { sendObjects, sendTree } from "./send.js";
import type { PrepareWorkspaceOptions, WorkspaceResult } from "./types.js";

export async function prepareWorkspace(opts: PrepareWorkspaceOptions): Promise<WorkspaceResult> {
  const { report } = opts;
  const repo = await step(report, "workspace-scan", `Reading checkout "${opts.hostPath}"`, () =>
    resolveHostRepo(opts.hostPath),
  );
  const guestPath = checkGuestPath(opts.guestPath ?? defaultGuestPath(repo.top));
  const record = opts.manifestPath === undefined ? undefined : recordOf(repo, guestPath, opts);
  // When the last prepare's record allows an update, the guest lists its workspace while the
  // host tree is scanned: the listing reads and changes nothing, so an error in the plan (or
  // a fallback later) just drops it.
  const last =
    record === undefined || opts.manifestPath === undefined || opts.dryRun
      ? null
      : await readManifest(opts.manifestPath);
  const fit = last === null || record === undefined ? null : compareRecord(last, record);
  const why = fit !== null && "why" in fit ? fit.why : null;
  const probe =
    fit === null || why !== null || opts.fresh === true
      ? undefined
      : startProbe(opts.target, guestPath, stampPath(guestPath), opts.signal);
  void probe?.catch(() => undefined);
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

  const token = newToken();
  if (
    probe !== undefined &&
    fit !== null &&
    "head" in fit &&
    last !== null &&
    record !== undefined &&
    opts.manifestPath
  ) {
    const outcome = await updateWorkspace({
      target: opts.target,
      guestPath,
      stampPath: stampPath(guestPath),
      top: repo.top,
      mode: opts.mode,
      paths: plan.tree.paths,
      sigs: plan.tree.sigs ?? new Map(),
      last,
      probe,
      head: fit.head,
      identity: { userName: repo.userName, userEmail: repo.userEmail },
      token,
      report,
      signal: opts.signal,
    });
    if ("update" in outcome) {
      await saveRecord(opts.manifestPath, record, plan, token);
      return { ...result, update: outcome.update };
    }
    note(report, `sending the whole tree: ${outcome.fallback}`);
  } else if (why !== null && opts.fresh !== true) {
    note(report, `sending the whole tree: ${why}`);
  }

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
  await guard(staging, () => fill(staging, repo, plan, opts, token));
  if (opts.manifestPath !== undefined) {
    if (record === undefined) await removeManifest(opts.manifestPath);
    else await saveRecord(opts.manifestPath, record, plan, token);
  }
  return result;
}

/**
 * What must be the same for a prepare to be only an update of the last one; undefined when
 * this prepare cannot be an update in any case (a branch checked out at another commit, or a
 * full copy whose guest branch makes its .git differ from the host's).
 */
interface Record_ {
  guestPath: string;
  hostPath: string;
  mode: string;
  includeUntracked: boolean;
  branch: string | null;
  commit: string | null;
  headRef: string | null;
  userName: string | null;
  userEmail: string | null;
}

function recordOf(
  repo: HostRepo,
  guestPath: string,
  opts: PrepareWorkspaceOptions,
): Record_ | undefined {
  // --from checks a commit out in the guest (shallow) or gives the guest .git a branch the
  // host's lacks (full_copy): the guest tree is not the host's, so there is nothing to update.
  if (opts.from !== undefined) return undefined;
  if (opts.mode === "full_copy" && opts.branch !== undefined) return undefined;
  const shallowBranch = opts.mode === "shallow" && opts.branch !== undefined;
  return {
    guestPath,
    hostPath: repo.top,
    mode: opts.mode,
    includeUntracked: opts.includeUntracked,
    branch: opts.branch ?? null,
    // What planWorkspace gives a plan without --from: HEAD's commit, and the guest branch.
    commit: repo.head,
    headRef: shallowBranch ? `refs/heads/${opts.branch}` : repo.headRef,
    userName: repo.userName ?? null,
    userEmail: repo.userEmail ?? null,
  };
}

const RECORD_WORDS: { [K in keyof Record_]: string } = {
  guestPath: "the guest path",
  hostPath: "the host checkout",
  mode: "the mode",
  includeUntracked: "--include-untracked",
  branch: "--branch",
  commit: "HEAD",
  headRef: "the checked-out branch",
  userName: "git user.name",
  userEmail: "git user.email",
};

/**
 * Whether the last prepare's record fits this one: not (and why), or as an update that also
 * moves the guest's HEAD when the host committed on the same branch since (shallow mode; in
 * full_copy .git is sent as files, so a commit is only more changed files).
 */
function compareRecord(
  last: Manifest,
  record: Record_,
): { why: string } | { head: HeadMove | null } {
  let before: Partial<Record_>;
  try {
    before = JSON.parse(last.key) as Partial<Record_>;
  } catch {
    return { why: "the last prepare's record is unreadable" };
  }
  const contentOnly: (keyof Record_)[] =
    record.mode === "full_copy" ? ["commit", "headRef"] : ["commit"];
  for (const field of Object.keys(RECORD_WORDS) as (keyof Record_)[]) {
    if (contentOnly.includes(field) || before[field] === record[field]) continue;
    return { why: `${RECORD_WORDS[field]} differs from the last prepare's` };
  }
  const from = before.commit;
  const to = record.commit;
  if (record.mode === "full_copy" || from === to) return { head: null };
  if (typeof from !== "string" || to === null) {
    return { why: `HEAD moved since the last prepare (${short(from)} -> ${short(to)})` };
  }
  return { head: { from, to } };
}

function short(commit: string | null | undefined): string {
  return commit ? commit.slice(0, 12) : "none";
}

async function saveRecord(file: string, record: Record_, plan: Plan, token: string): Promise<void> {
  await writeManifest(file, {
    key: JSON.stringify(record),
    token,
    scannedAt: plan.tree.scannedAt ?? Date.now(),
    entries: plan.tree.sigs ?? new Map(),
  });
}

function note(report: Reporter, message: string): void {
  report({ type: "note", level: "info", message });
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
  token: string,
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
    finish(staging, repo, plan, opts, token),
  );
}

async function finish(
  staging: Staging,
  repo: HostRepo,
  plan: Plan,
  opts: PrepareWorkspaceOptions,
  token: string,
): Promise<void> {
  const script = opts.mode === "shallow" ? FINISH_SHALLOW : FINISH_FULL_COPY;
  const stamp = opts.manifestPath === undefined ? ["", ""] : [stampPath(staging.guestPath), token];
  const args = [...finishArgs(staging, repo, plan, opts), ...stamp];
  const result = await runScript(staging.target, script, args);
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
