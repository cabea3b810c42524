// Private: half-built images under `stagingDir`, and removing them without ever deleting
// through a mount point a killed mmdebstrap left behind.
import { mkdir, mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { BangerError } from "../errors/index.js";
import { run } from "../host/index.js";

const UMOUNT_TIMEOUT_MS = 30_000;

/** Creates a fresh private directory for one build under `stagingDir`. */
export async function makeStagingDir(stagingDir: string, prefix: string): Promise<string> {
  await mkdir(stagingDir, { recursive: true, mode: 0o700 });
  return mkdtemp(path.join(stagingDir, `${prefix}-`));
}

/**
 * The mount points at or below `dir` in a /proc/self/mountinfo text, deepest first. Field 5
 * is the mount point, with space, tab, newline and backslash written as octal escapes.
 */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const found: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const field = line.split(" ")[4];
    if (field === undefined) continue;
    const mountPoint = field.replace(/\\([0-7]{3})/g, (_m, oct: string) =>
      String.fromCharCode(parseInt(oct, 8)),
    );
    if (mountPoint === dir || mountPoint.startsWith(`${dir}/`)) found.push(mountPoint);
  }
  return found.sort((a, b) => b.length - a.length);
}

/**
 * Removes a staging directory. A root-mode mmdebstrap bind-mounts /dev, /proc and /sys into
 * its tree; if it was killed before unmounting them, a recursive delete would wipe the host's
 * /dev. So leftover mounts are unmounted first, and the delete is refused if any remain.
 */
export async function removeStagingDir(dir: string): Promise<void> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch {
    return;
  }
  for (const mountPoint of await currentMountsUnder(real)) {
    await run("umount", [mountPoint], { timeoutMs: UMOUNT_TIMEOUT_MS }).catch(() =>
      run("umount", ["--lazy", mountPoint], { timeoutMs: UMOUNT_TIMEOUT_MS }),
    );
  }
  const left = await currentMountsUnder(real);
  if (left.length > 0) {
    throw new BangerError(
      "IMAGE_BUILD_FAILED",
      `cannot remove staging dir "${real}": "${left[0]}" is still mounted`,
      { hint: `unmount it with \`umount -R ${real}\`, then delete "${real}"` },
    );
  }
  await rm(real, { recursive: true, force: true });
}

async function currentMountsUnder(dir: string): Promise<string[]> {
  return mountsUnder(await readFile("/proc/self/mountinfo", "utf8"), dir);
}
