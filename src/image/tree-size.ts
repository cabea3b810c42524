// Private: how big the ext4 file for a root tree must be.
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";

const MIB = 1024 * 1024;
/** Smallest root filesystem we make: room for a few packages installed in the guest. */
export const MIN_ROOTFS_BYTES = 1024 * MIB;
/** Headroom over the tree's bytes for ext4 metadata, the journal and small guest writes. */
export const ROOTFS_GROWTH = 1.5;

/** Size for a root filesystem holding `usedBytes`: ×1.5, rounded up to MiB, at least 1 GiB. */
export function rootfsSizeBytes(usedBytes: number): number {
  if (!Number.isFinite(usedBytes) || usedBytes < 0) {
    throw new Error(`rootfsSizeBytes: invalid usedBytes ${usedBytes}`);
  }
  const grown = Math.ceil((usedBytes * ROOTFS_GROWTH) / MIB) * MIB;
  return Math.max(MIN_ROOTFS_BYTES, grown);
}

/**
 * Bytes the tree under `root` occupies, as `du` counts them: allocated blocks of files (each
 * hard-linked inode once), plus directory and symlink sizes. Does not follow symlinks.
 */
export async function measureTreeBytes(root: string): Promise<number> {
  const seen = new Set<string>();
  const pending = [root];
  let total = 0;
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const st = await lstat(full);
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      total += st.isFile() ? st.blocks * 512 : st.size;
      if (st.isDirectory()) pending.push(full);
    }
  }
  return total;
}
