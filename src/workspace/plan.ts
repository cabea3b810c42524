// Private: what a prepare will send, decided on the host before the VM is touched.
import { BangerError } from "../errors/index.js";
import { listCheckoutFiles, listWholeTree, type TreeFiles } from "./file-list.js";
import { gitOptional, git } from "./host-git.js";
import { refuse, resolveRevision, type HostRepo } from "./host-repo.js";
import type { PrepareWorkspaceOptions } from "./types.js";

export interface Plan {
  /** The commit the workspace is based on; null without commits. */
  commit: string | null;
  /** What HEAD names in the guest; null for a detached HEAD. */
  headRef: string | null;
  /** `overlay`: the host's files are sent; `clean`: the commit is checked out in the guest. */
  checkout: "overlay" | "clean";
  tree: TreeFiles;
}

type PlanInput = Pick<PrepareWorkspaceOptions, "mode" | "includeUntracked" | "branch" | "from">;

/** Decides what to send; INVALID_ARGUMENT for an option or checkout that cannot work. */
export async function planWorkspace(repo: HostRepo, opts: PlanInput): Promise<Plan> {
  if (opts.from !== undefined && opts.branch === undefined) {
    throw new BangerError(
      "USAGE",
      `--from "${opts.from}" needs --branch: it names the branch's start`,
      {
        hint: "add `--branch <name>`",
      },
    );
  }
  if (opts.branch !== undefined) await checkBranchName(repo.top, opts.branch);
  const from = opts.from === undefined ? null : await resolveRevision(repo.top, opts.from);
  return opts.mode === "full_copy" ? fullCopyPlan(repo, from) : shallowPlan(repo, opts, from);
}

async function shallowPlan(repo: HostRepo, opts: PlanInput, from: string | null): Promise<Plan> {
  const headRef = opts.branch === undefined ? repo.headRef : `refs/heads/${opts.branch}`;
  if (from !== null) {
    return { commit: from, headRef, checkout: "clean", tree: await commitTree(repo.top, from) };
  }
  const tree = await listCheckoutFiles(repo.top, opts.includeUntracked);
  return { commit: repo.head, headRef, checkout: "overlay", tree };
}

async function fullCopyPlan(repo: HostRepo, from: string | null): Promise<Plan> {
  if (!repo.gitDirInTree) {
    throw refuse(
      repo.top,
      "its .git is a file pointing elsewhere (a linked worktree or a submodule)",
      "send it with `--mode shallow`",
    );
  }
  const tree = await listWholeTree(repo.top);
  return { commit: from ?? repo.head, headRef: repo.headRef, checkout: "overlay", tree };
}

// The files of a commit, for a branch started elsewhere than HEAD: sizes from the object store.
async function commitTree(top: string, commit: string): Promise<TreeFiles> {
  const records = (await git(top, ["ls-tree", "-r", "-z", "-l", commit]))
    .split("\0")
    .filter((r) => r !== "");
  const tree: TreeFiles = { paths: [], files: 0, bytes: 0, untrackedLeftOut: 0, skipped: [] };
  for (const record of records) {
    const tab = record.indexOf("\t");
    const meta = record.slice(0, tab);
    const file = record.slice(tab + 1);
    const [mode, , , size] = meta.split(/ +/);
    if (mode === "160000") {
      throw refuse(
        top,
        `it has submodules ("${file}"), which shallow mode cannot send`,
        "add `--mode full_copy`",
      );
    }
    tree.paths.push(file);
    tree.files += 1;
    tree.bytes += mode === "120000" ? 0 : Number(size);
  }
  return tree;
}

async function checkBranchName(top: string, branch: string): Promise<void> {
  const valid =
    !branch.startsWith("-") &&
    (await gitOptional(top, ["check-ref-format", `refs/heads/${branch}`])) !== null;
  if (valid) return;
  throw new BangerError("INVALID_ARGUMENT", `invalid branch name "${branch}"`, {
    hint: "use a name that `git check-ref-format --branch` accepts, such as `banger/try-1`",
  });
}
