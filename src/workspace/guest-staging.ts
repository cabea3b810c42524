// Private: the guest side of a prepare: a staging dir next to the workspace, filled, then
// renamed over it; or removed, leaving the previous workspace as it was.
import { BangerError } from "../errors/index.js";
import { sshExec, type SshTarget } from "../guest/index.js";
import { tailLines } from "../host/index.js";
import { describeExit, type ChildExit } from "./child.js";
import { BEGIN, MISSING_TOOL_STATUS } from "./guest-scripts.js";
import type { WorkspaceMode } from "./types.js";

export interface Staging {
  target: SshTarget;
  guestPath: string;
  dir: string;
  /** Free space on the workspace's file system when the staging dir was made. */
  freeBytes: number;
}

const SCRIPT_TIMEOUT_MS = 120_000;
const DISCARD_TIMEOUT_MS = 30_000;
const MIB = 1024 * 1024;
// GNU tar reports a short write on a full disk without the errno text.
const DISK_FULL = /no space left on device|disk quota exceeded|wrote only \d+ of \d+ bytes/i;

/** Runs one of guest-scripts' scripts with its positional arguments. */
export function runScript(
  target: SshTarget,
  script: string,
  args: readonly string[],
): ReturnType<typeof sshExec> {
  return sshExec(target, ["sh", "-c", script, "banger-workspace", ...args], {
    timeoutMs: SCRIPT_TIMEOUT_MS,
  });
}

/** Makes the staging dir `dir` and measures the free space; throws WORKSPACE_FAILED. */
export async function beginStaging(
  target: SshTarget,
  guestPath: string,
  dir: string,
  mode: WorkspaceMode,
): Promise<Staging> {
  const result = await runScript(target, BEGIN, [guestPath, dir, mode]);
  if (result.code === MISSING_TOOL_STATUS) {
    throw new BangerError(
      "WORKSPACE_FAILED",
      `${failed(target, guestPath)}: ${lastLine(result.stderr)}`,
      {
        hint: "install it in the image, or use an image that has it (`banger image list`)",
      },
    );
  }
  if (result.code !== 0) {
    throw guestError(target, guestPath, "cannot make its staging dir", toExit(result), null);
  }
  const freeKib = /^(\d{1,15})\s*$/.exec(lastLine(result.stdout))?.[1];
  if (freeKib === undefined) {
    throw guestError(target, guestPath, "the guest reported no free space", toExit(result), null);
  }
  return { target, guestPath, dir, freeBytes: Number(freeKib) * 1024 };
}

/** NO_SPACE before anything is sent when `bytes` cannot fit. */
export function checkRoom(staging: Staging, bytes: number): void {
  if (bytes <= staging.freeBytes) return;
  throw noSpace(staging, `${mib(bytes)} MiB to send, ${mib(staging.freeBytes)} MiB free`);
}

/** Removes the staging dir; best effort, since it runs while another failure is reported. */
export async function discardStaging(staging: Staging): Promise<void> {
  await sshExec(staging.target, ["rm", "-rf", "--", staging.dir], {
    timeoutMs: DISCARD_TIMEOUT_MS,
  }).catch(() => undefined);
}

/**
 * The error for a guest command that failed: NO_SPACE when the disk filled up, VM_SSH_UNAVAILABLE
 * when ssh itself gave up (status 255), WORKSPACE_FAILED otherwise, with the tail of stderr.
 */
export function guestError(
  target: SshTarget,
  guestPath: string,
  doing: string,
  exit: ChildExit,
  staging: Staging | null,
): BangerError {
  if (staging !== null && DISK_FULL.test(exit.stderr)) {
    return noSpace(staging, `the disk filled up (${mib(staging.freeBytes)} MiB were free)`);
  }
  const tail = tailLines(exit.stderr, 10);
  const message = `${failed(target, guestPath)}: ${doing}: ${describeExit(exit)}${tail ? `\n${tail}` : ""}`;
  const code = exit.code === 255 ? "VM_SSH_UNAVAILABLE" : "WORKSPACE_FAILED";
  return new BangerError(code, message, {
    hint: `check the VM with \`banger vm ssh ${target.name ?? target.alias}\``,
  });
}

function noSpace(staging: Staging, why: string): BangerError {
  const { target, guestPath } = staging;
  return new BangerError(
    "NO_SPACE",
    `${failed(target, guestPath)}: ${why}; the previous workspace is intact`,
    {
      hint: `free space in the VM (\`banger vm ssh ${target.name ?? target.alias} -- df -h\`) or send less (drop --include-untracked)`,
    },
  );
}

function failed(target: SshTarget, guestPath: string): string {
  return `cannot prepare workspace "${guestPath}" in VM "${target.name ?? target.alias}"`;
}

export function toExit(result: { code: number; stdout: string; stderr: string }): ChildExit {
  return {
    code: result.code,
    signal: null,
    stdout: Buffer.from(result.stdout),
    stderr: result.stderr,
    stoppedFor: null,
  };
}

function lastLine(text: string): string {
  return tailLines(text, 1);
}

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}
