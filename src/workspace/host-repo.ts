// Private: what banger needs to know about the host checkout before sending it.
import { lstat, stat } from "node:fs/promises";
import path from "node:path";
import { BangerError, isErrno } from "../errors/index.js";
import { gitExit, gitOptional, git } from "./host-git.js";

export interface HostRepo {
  /** The work tree's top directory, absolute. */
  top: string;
  /** HEAD's commit; null in a repository without commits. */
  head: string | null;
  /** The branch HEAD names (`refs/heads/…`); null when HEAD is detached. */
  headRef: string | null;
  userName: string | null;
  userEmail: string | null;
  /** False in a linked worktree or a submodule, whose `.git` is a file pointing elsewhere. */
  gitDirInTree: boolean;
}

/** Resolves the work tree enclosing `hostPath`; INVALID_ARGUMENT when there is none. */
export async function resolveHostRepo(hostPath: string): Promise<HostRepo> {
  const dir = await existingDir(hostPath);
  const top = await workTreeTop(dir, hostPath);
  const [head, headRef, userName, userEmail] = await Promise.all([
    gitOptional(top, ["rev-parse", "--verify", "-q", "HEAD^{commit}"]),
    gitOptional(top, ["symbolic-ref", "-q", "HEAD"]),
    gitOptional(top, ["config", "--get", "user.name"]),
    gitOptional(top, ["config", "--get", "user.email"]),
  ]);
  const gitDirInTree = (await lstat(path.join(top, ".git"))).isDirectory();
  return { top, head, headRef, userName, userEmail, gitDirInTree };
}

async function existingDir(hostPath: string): Promise<string> {
  const abs = path.resolve(hostPath);
  try {
    return (await stat(abs)).isDirectory() ? abs : path.dirname(abs);
  } catch (err) {
    if (!isErrno(err, "ENOENT") && !isErrno(err, "ENOTDIR")) throw err;
    throw refuse(hostPath, "the path does not exist", "check the path, then run the command again");
  }
}

async function workTreeTop(dir: string, hostPath: string): Promise<string> {
  const probe = await gitExit(dir, ["rev-parse", "--is-bare-repository", "--is-inside-work-tree"]);
  if (probe.code !== 0) {
    throw refuse(hostPath, "it is not inside a git work tree", `run \`git init\` there first`);
  }
  const [bare, inside] = probe.stdout.toString("utf8").trim().split("\n");
  if (bare === "true") {
    throw refuse(hostPath, "it is a bare repository", "pass a checkout: `git clone <repo> dir`");
  }
  if (inside !== "true") {
    throw refuse(hostPath, "it is inside a .git directory", "pass the work tree above it");
  }
  return (await git(dir, ["rev-parse", "--show-toplevel"])).replace(/\n$/, "");
}

/** INVALID_ARGUMENT for a host path that cannot be sent. */
export function refuse(hostPath: string, why: string, hint: string): BangerError {
  return new BangerError("INVALID_ARGUMENT", `cannot prepare workspace "${hostPath}": ${why}`, {
    hint,
  });
}

/** The commit `rev` names in the host checkout; INVALID_ARGUMENT when it names none. */
export async function resolveRevision(top: string, rev: string): Promise<string> {
  const commit = await gitOptional(top, [
    "rev-parse",
    "--verify",
    "-q",
    "--end-of-options",
    `${rev}^{commit}`,
  ]);
  if (commit !== null && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) return commit;
  throw refuse(top, `revision "${rev}" names no commit`, `list them with \`git -C ${top} log\``);
}
