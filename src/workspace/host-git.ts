// Private: running git on the host checkout, isolated from the caller's GIT_* environment.
import { checkExit, startChild, type ChildExit, type ChildOptions } from "./child.js";

// The daemon runs as root over checkouts that users own: without safe.directory git refuses
// them, and fsmonitor is the one setting these read-only commands would execute from .git/config.
const GIT_GUARDS = ["-c", "safe.directory=*", "-c", "core.fsmonitor=false"];

/** The environment for host git: no GIT_* variable from the daemon leaks into it. */
export function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { LC_ALL: "C" };
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("GIT_") && key !== "LC_ALL") env[key] = value;
  }
  return env;
}

/** The argv for git in `cwd`, with banger's guards. */
export function gitArgs(cwd: string, args: readonly string[]): string[] {
  return [...GIT_GUARDS, "-C", cwd, ...args];
}

/** Runs git in `cwd` and resolves with how it ended, whatever the status. */
export function gitExit(
  cwd: string,
  args: readonly string[],
  opts: Pick<ChildOptions, "input" | "signal"> = {},
): Promise<ChildExit> {
  return startChild("git", gitArgs(cwd, args), { ...opts, env: gitEnv(), collectStdout: true })
    .exited;
}

/** Runs git in `cwd` and resolves with its stdout; throws SUBPROCESS_FAILED unless it exits 0. */
export async function git(
  cwd: string,
  args: readonly string[],
  opts: Pick<ChildOptions, "input" | "signal"> = {},
): Promise<string> {
  const exit = await gitExit(cwd, args, opts);
  checkExit("git", gitArgs(cwd, args), exit);
  return exit.stdout.toString("utf8");
}

/** Like `git`, but resolves with null when git exits 1 (a missing ref or config key). */
export async function gitOptional(cwd: string, args: readonly string[]): Promise<string | null> {
  const exit = await gitExit(cwd, args);
  if (exit.code === 1 && exit.stoppedFor === null) return null;
  checkExit("git", gitArgs(cwd, args), exit);
  return exit.stdout.toString("utf8").trim();
}

/**
 * The ids of a commit, its tree and everything in it (not its history); null when the commit
 * is not in the repository.
 */
export async function commitObjects(
  cwd: string,
  commit: string,
  opts: Pick<ChildOptions, "signal"> = {},
): Promise<string[] | null> {
  const args = ["rev-list", "--objects", "--no-object-names", "--max-count=1", commit, "--"];
  const exit = await gitExit(cwd, args, opts);
  if (exit.stoppedFor === null && exit.code !== 0) return null;
  checkExit("git", gitArgs(cwd, args), exit);
  return exit.stdout.toString("utf8").split("\n").filter(Boolean);
}
