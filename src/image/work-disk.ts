// Private: a VM's persistent work disk, a sparse ext4 file mounted at /root in the guest.
import { truncate } from "node:fs/promises";
import { BangerError } from "../errors/index.js";
import { run } from "../host/index.js";
import { createDiskFile } from "./disk-file.js";

const MKFS_TIMEOUT_MS = 2 * 60_000;
const DEBUGFS_TIMEOUT_MS = 30_000;
/** Below this, ext4's journal and metadata leave no room worth having. */
export const MIN_WORK_DISK_BYTES = 16 * 1024 * 1024;

export interface WorkDiskOptions {
  path: string;
  sizeBytes: number;
  skelDir?: string;
}

export async function createWorkDisk(opts: WorkDiskOptions): Promise<void> {
  checkWorkDiskSize(opts.sizeBytes);
  await createDiskFile(opts.path, "work disk", async () => {
    await truncate(opts.path, opts.sizeBytes);
    const skel = opts.skelDir === undefined ? [] : ["-d", opts.skelDir];
    // The file was just truncated, so it reads as zeros: the journal and inode tables need
    // not be written out, which keeps a new VM's disk at well under a MiB allocated.
    const args = [
      "-q",
      "-F",
      "-L",
      "banger-work",
      "-E",
      "root_owner=0:0,lazy_itable_init=1,lazy_journal_init=1",
      ...skel,
      opts.path,
    ];
    await run("mkfs.ext4", args, { timeoutMs: MKFS_TIMEOUT_MS });
    await makeRootDirPrivate(opts.path);
  });
}

/** Rejects with INVALID_SIZE unless `sizeBytes` is a whole number of at least 16 MiB. */
export function checkWorkDiskSize(sizeBytes: number): void {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < MIN_WORK_DISK_BYTES) {
    throw new BangerError(
      "INVALID_SIZE",
      `invalid work disk size ${sizeBytes} bytes: must be a whole number of at least 16 MiB`,
      { hint: "give a size such as 8G" },
    );
  }
}

/**
 * /root must be 0700 root:root, but mkfs.ext4 1.47 makes the root inode 0755 even with -d, so
 * it is set with debugfs. debugfs exits 0 on failed requests, hence the check afterwards.
 */
async function makeRootDirPrivate(diskPath: string): Promise<void> {
  const input = "sif / mode 040700\nsif / uid 0\nsif / gid 0\n";
  await run("debugfs", ["-w", "-f", "-", diskPath], { input, timeoutMs: DEBUGFS_TIMEOUT_MS });
  const { stdout } = await run("debugfs", ["-R", "stat /", diskPath], {
    timeoutMs: DEBUGFS_TIMEOUT_MS,
  });
  const facts = parseInodeStat(stdout);
  if (facts === undefined || facts.mode !== 0o700 || facts.uid !== 0 || facts.gid !== 0) {
    throw new Error(`debugfs could not make the root directory 0700 root:root`);
  }
}

/** Mode bits (without the type), uid and gid from `debugfs -R "stat <path>"` output. */
export function parseInodeStat(
  text: string,
): { mode: number; uid: number; gid: number } | undefined {
  const mode = /\bMode:\s+([0-7]+)/.exec(text)?.[1];
  const uid = /\bUser:\s+(\d+)/.exec(text)?.[1];
  const gid = /\bGroup:\s+(\d+)/.exec(text)?.[1];
  if (mode === undefined || uid === undefined || gid === undefined) return undefined;
  return { mode: parseInt(mode, 8), uid: Number(uid), gid: Number(gid) };
}
