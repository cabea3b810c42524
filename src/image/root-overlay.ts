// Private: a VM's root disk, a qcow2 copy-on-write layer over an image's raw rootfs.
import { stat } from "node:fs/promises";
import path from "node:path";
import { run } from "../host/index.js";
import { createDiskFile } from "./disk-file.js";

const QEMU_IMG_TIMEOUT_MS = 30_000;
/** A fresh overlay holds only qcow2 headers and tables: a few hundred KiB. */
export const MAX_FRESH_OVERLAY_BYTES = 10 * 1024 * 1024;

export interface RootOverlayOptions {
  baseRawPath: string;
  overlayPath: string;
}

export async function createRootOverlay(opts: RootOverlayOptions): Promise<void> {
  // Absolute paths: qemu resolves a relative backing file against the overlay's directory,
  // and a leading "/" keeps a ":" in a name from being read as a protocol prefix.
  const base = path.resolve(opts.baseRawPath);
  const overlay = path.resolve(opts.overlayPath);
  await createDiskFile(overlay, "root overlay", async () => {
    const args = ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, overlay];
    await run("qemu-img", args, { timeoutMs: QEMU_IMG_TIMEOUT_MS });
    const { size } = await stat(overlay);
    if (size > MAX_FRESH_OVERLAY_BYTES) {
      throw new Error(`qemu-img made a ${size}-byte overlay, expected under 10 MiB`);
    }
  });
}
