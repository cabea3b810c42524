// Private: exportWorkspace, the guest's changes as a patch, read through a throwaway index so
// that the guest repository's own index and files stay exactly as they are.
import { BangerError } from "../errors/index.js";
import { sshExec, type SshTarget } from "../guest/index.js";
import { tailLines } from "../host/index.js";
import { describeExit, type ChildExit } from "./child.js";
import { checkGuestPath } from "./guest-path.js";
import { readFromGuest } from "./guest-pipe.js";
import type { ExportResult, ExportWorkspaceOptions } from "./types.js";

const COMMAND_TIMEOUT_MS = 120_000;
const DIFF_TIMEOUT_MS = 600_000;
const DEFAULT_MAX_PATCH_BYTES = 1024 * 1024 * 1024;
const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
// Guest config must not change the patch's shape: no external diff, no textconv, no colour,
// standard prefixes, full binary hunks.
const DIFF_ARGS = [
  "diff",
  "--cached",
  "--binary",
  "--full-index",
  "--no-ext-diff",
  "--no-textconv",
  "--no-color",
  "--src-prefix=a/",
  "--dst-prefix=b/",
];

export async function exportWorkspace(opts: ExportWorkspaceOptions): Promise<ExportResult> {
  const guestPath = checkGuestPath(opts.guestPath);
  if (opts.baseCommit !== null && !COMMIT.test(opts.baseCommit)) {
    const why = "expected a full hex object name";
    throw new BangerError("INVALID_ARGUMENT", `invalid base commit "${opts.baseCommit}": ${why}`);
  }
  const tmp = await makeTempDir(opts.target, guestPath);
  try {
    const git = ["env", `GIT_INDEX_FILE=${tmp}/index`, "git", "-C", guestPath];
    await guestOk(opts.target, guestPath, "cannot stage the changes", [...git, "add", "-A"]);
    const base = opts.baseCommit ?? (await emptyTree(opts.target, guestPath));
    const patch = await readPatch(opts, [...git, ...DIFF_ARGS, base, "--"]);
    return { patch, files: countFiles(patch) };
  } finally {
    const rm = ["rm", "-rf", "--", tmp];
    await sshExec(opts.target, rm, { timeoutMs: COMMAND_TIMEOUT_MS }).catch(() => undefined);
  }
}

async function readPatch(opts: ExportWorkspaceOptions, command: string[]): Promise<Buffer> {
  const exit = await readFromGuest(opts.target, command, {
    timeoutMs: DIFF_TIMEOUT_MS,
    maxBytes: opts.maxPatchBytes ?? DEFAULT_MAX_PATCH_BYTES,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  if (exit.code === 0 && exit.stoppedFor === null) return exit.stdout;
  throw exportError(opts.target, opts.guestPath, "cannot diff", exit);
}

async function makeTempDir(target: SshTarget, guestPath: string): Promise<string> {
  const out = await guestOk(target, guestPath, "cannot make a temporary index", ["mktemp", "-d"]);
  const dir = out.trim();
  // The guest's answer becomes an argument of the next commands: accept only a plain path.
  if (/^\/[A-Za-z0-9._/-]+$/.test(dir) && !dir.includes("..")) return dir;
  throw new BangerError(
    "WORKSPACE_FAILED",
    `cannot export workspace "${guestPath}": mktemp answered ${JSON.stringify(dir.slice(0, 200))}`,
  );
}

async function emptyTree(target: SshTarget, guestPath: string): Promise<string> {
  const args = ["git", "-C", guestPath, "hash-object", "-t", "tree", "/dev/null"];
  const out = (await guestOk(target, guestPath, "cannot name the empty tree", args)).trim();
  if (COMMIT.test(out)) return out;
  throw new BangerError(
    "WORKSPACE_FAILED",
    `cannot export workspace "${guestPath}": git answered ${JSON.stringify(out.slice(0, 200))} for the empty tree`,
  );
}

async function guestOk(
  target: SshTarget,
  guestPath: string,
  doing: string,
  command: string[],
): Promise<string> {
  const result = await sshExec(target, command, { timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.code === 0) return result.stdout;
  const exit: ChildExit = {
    code: result.code,
    signal: null,
    stdout: Buffer.alloc(0),
    stderr: result.stderr,
    stoppedFor: null,
  };
  throw exportError(target, guestPath, doing, exit);
}

function exportError(
  target: SshTarget,
  guestPath: string,
  doing: string,
  exit: ChildExit,
): BangerError {
  const what = `cannot export workspace "${guestPath}" from VM "${target.name ?? target.alias}"`;
  if (exit.stoppedFor === "abort") return new BangerError("INTERRUPTED", `${what}: interrupted`);
  const tail = tailLines(exit.stderr, 5);
  const message = `${what}: ${doing}: ${describeExit(exit)}${tail ? `\n${tail}` : ""}`;
  // ssh exits 255 for its own failures; git and mktemp never do.
  const code = exit.code === 255 ? "VM_SSH_UNAVAILABLE" : "WORKSPACE_FAILED";
  const status = `banger vm ssh ${target.name ?? target.alias} -- git -C '${guestPath}' status`;
  return new BangerError(code, message, { hint: `check the workspace with \`${status}\`` });
}

function countFiles(patch: Buffer): number {
  let files = patch.subarray(0, 11).toString("latin1") === "diff --git " ? 1 : 0;
  for (
    let at = patch.indexOf("\ndiff --git ");
    at !== -1;
    at = patch.indexOf("\ndiff --git ", at + 1)
  ) {
    files += 1;
  }
  return files;
}
