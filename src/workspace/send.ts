// Private: the bytes of a workspace on their way in: HEAD's objects as a pack, then the files as
// a tar stream, each from a host process straight into a guest command.
import type { Reporter } from "../api/progress.js";
import { commitObjects, gitArgs, gitEnv } from "./host-git.js";
import { pipeToGuest, type HostSource } from "./guest-pipe.js";
import { guestError, type Staging } from "./guest-staging.js";

const PROGRESS_EVERY_BYTES = 1024 * 1024;

/**
 * Sends the objects of `commit` alone (its tree, not its history) as a pack that the guest's
 * `git index-pack` stores in the staging repository.
 */
export async function sendObjects(
  staging: Staging,
  top: string,
  commit: string,
  signal?: AbortSignal,
): Promise<void> {
  const ids = await commitObjects(top, commit);
  if (ids === null) throw new Error(`commit ${commit} is not in "${top}"`);
  const source: HostSource = {
    cmd: "git",
    args: gitArgs(top, ["pack-objects", "--stdout", "-q"]),
    cwd: top,
    env: gitEnv(),
    input: ids.join("\n") + "\n",
  };
  const command = ["git", "-C", staging.dir, "index-pack", "--stdin"];
  const exit = await pipeToGuest(
    staging.target,
    source,
    command,
    signal === undefined ? {} : { signal },
  );
  if (exit.code !== 0) {
    throw guestError(staging.target, staging.guestPath, "cannot store the commit", exit, staging);
  }
}

export interface SendTreeOptions {
  /** Paths relative to `top`, or `all` for the whole directory. */
  paths: string[] | "all";
  /** Expected size, for the progress bar. */
  bytes: number;
  report: Reporter;
  signal?: AbortSignal;
}

/**
 * Streams the files to `tar -x` in the staging dir. Symlinks go as symlinks and modes are kept;
 * the guest's tar gives the files to the user it runs as (`-o`).
 */
export async function sendTree(
  staging: Staging,
  top: string,
  opts: SendTreeOptions,
): Promise<void> {
  const source: HostSource = {
    cmd: "tar",
    args: tarArgs(top, opts.paths),
    cwd: top,
    env: gitEnv(),
    input: tarInput(opts.paths),
  };
  const command = ["tar", "-x", "-o", "-f", "-", "-C", staging.dir];
  let reported = 0;
  const onBytes = (sent: number): void => {
    if (sent - reported < PROGRESS_EVERY_BYTES) return;
    reported = sent;
    opts.report({
      type: "progress",
      step: "workspace-copy",
      current: Math.min(sent, opts.bytes),
      total: opts.bytes,
      unit: "bytes",
    });
  };
  const exit = await pipeToGuest(staging.target, source, command, {
    onBytes,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  if (exit.code !== 0) {
    throw guestError(staging.target, staging.guestPath, "cannot unpack the files", exit, staging);
  }
}

// GNU format: long and non-ASCII names, and files past 8 GiB, which busybox tar reads as well.
function tarArgs(top: string, paths: string[] | "all"): string[] {
  const common = ["-c", "-f", "-", "--format=gnu", "-C", top];
  if (paths === "all") return [...common, "."];
  // --verbatim-files-from: a listed name such as `-C` or `--remove-files` stays a name.
  return [...common, "--no-recursion", "--null", "--verbatim-files-from", "-T", "-"];
}

function tarInput(paths: string[] | "all"): string {
  return paths === "all" ? "" : paths.map((p) => `${p}\0`).join("");
}
