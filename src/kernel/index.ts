// Kernels: fetching Debian's cloud kernel from the archive (signature and checksums verified),
// the kernel store, and the initramfs banger boots it with (base and per-VM parts).
import type { Reporter } from "../api/progress.js";
import type { Paths } from "../paths/index.js";
import { ensureKernel as ensure } from "./ensure-kernel.js";
import { getKernel as get, listKernels as list } from "./store.js";
import { buildVmInitrd as buildVm } from "./vm-initrd.js";
import type { BootFile, KernelInfo } from "./types.js";

export type { BootFile, KernelInfo } from "./types.js";

/**
 * The kernel `ensureKernel` fetches when no name is given. `DEFAULT_MIRROR` is the archive to
 * fetch from when the config names none.
 */
export { DEFAULT_KERNEL, DEFAULT_MIRROR } from "./catalog.js";

/**
 * Names `ensureKernel` can fetch, with the Debian suite and the metapackage that points at the
 * current kernel of that suite. Each kernel's base initramfs loads virtio_mmio, virtio_blk,
 * virtio_net, virtio_console, virtio_rng, ext4 and vsock + vmw_vsock_virtio_transport, skipping
 * whichever that kernel has built in.
 */
export { KERNEL_CATALOG } from "./catalog.js";

/**
 * The stored kernel `name` (default DEFAULT_KERNEL), fetching and building it first when the
 * store lacks it. Idempotent: a stored kernel is returned without network access.
 *
 * Fetching trusts only the archive key (`gpgv` with debian-archive-keyring): InRelease, then
 * Packages.xz by its SHA256, then the kernel .deb by its SHA256 (cached in `paths.cacheDir` by
 * hash). Everything is built in a staging dir under `paths.stagingDir` and renamed into
 * `<kernelsDir>/<name>` with the manifest written last; failure or abort removes the staging
 * dir. Reports steps `kernel-index`, `kernel-download` (with byte progress), `kernel-extract`,
 * `kernel-initrd`. Concurrent calls for one name in this process share one build; the build is
 * aborted only when every caller's `signal` has aborted.
 *
 * Errors: KERNEL_NOT_FOUND (name not in KERNEL_CATALOG), INVALID_NAME, INVALID_ARGUMENT (mirror
 * not http(s)), KERNEL_FETCH_FAILED naming the URL (network, HTTP status, or no data for 30 s),
 * KERNEL_CHECKSUM_MISMATCH (bad signature, hash or size), INITRD_BUILD_FAILED, HOST_MISSING_TOOL
 * (gpgv, xz, dpkg-deb, depmod), INTERRUPTED.
 */
export function ensureKernel(opts: {
  paths: Paths;
  name?: string;
  mirror: string;
  report: Reporter;
  signal?: AbortSignal;
}): Promise<KernelInfo> {
  return ensure(opts);
}

/**
 * The stored kernel `name`, read from its manifest (no network, no side effects). Fails with
 * KERNEL_NOT_FOUND (hint: `banger kernel pull`) when absent or its manifest is unreadable, and
 * INVALID_NAME when `name` is not a DNS label.
 */
export function getKernel(paths: Paths, name: string): Promise<KernelInfo> {
  return get(paths, name);
}

/**
 * Every stored kernel, sorted by name; an empty or absent store gives []. Directories without a
 * manifest (not published) are not kernels and are left out; a broken manifest fails with
 * KERNEL_NOT_FOUND naming the kernel.
 */
export function listKernels(paths: Paths): Promise<KernelInfo[]> {
  return list(paths);
}

/**
 * Writes the initramfs of one VM to `outPath`: the bytes of `baseInitrdPath` (a kernel's
 * `initrdPath`) followed by a second, uncompressed newc archive holding each file under
 * `/banger/root/<path>`; missing parent directories get mode 0755 unless given as BootFiles.
 * At boot, /init copies them onto the root disk before switch_root: new entries keep their
 * mode, existing directories keep theirs, existing files are replaced. Owner is root.
 * Replaces `outPath` atomically; idempotent for equal input (up to mtimes).
 *
 * Errors: INVALID_ARGUMENT for a path that is not absolute or holds "", "." or ".."
 * components, control characters, over-long names, duplicates or a file used as a directory;
 * INITRD_BUILD_FAILED when the base cannot be read or the output cannot be written.
 */
export function buildVmInitrd(opts: {
  baseInitrdPath: string;
  outPath: string;
  files: BootFile[];
}): Promise<void> {
  return buildVm(opts);
}

/**
 * Stores a host kernel as `name`: the bzImage at `kernelPath` (its release read from the setup
 * header) plus either banger's base initramfs built from `modulesDir` (`/lib/modules/<release>`,
 * copied first, never modified) or `initrdPath` used as is (it must understand banger's
 * per-VM archive, as banger's own initramfs does). Staged under `stagingDir`, renamed into
 * `<kernelsDir>/<name>` with the manifest last (source suite "imported"). Reports step
 * `kernel-initrd`. Not idempotent. Errors: USAGE (not exactly one of initrd and modules),
 * INVALID_NAME, KERNEL_EXISTS, INVALID_ARGUMENT (a missing file, not a bzImage),
 * INITRD_BUILD_FAILED (a boot module missing from the modules dir).
 */
export { importKernel, type ImportKernelOptions } from "./import-kernel.js";

/**
 * Removes the stored kernel `name`. Refused with KERNEL_IN_USE when `usedBy` (labels such as
 * `image "x"` or `VM "y"`, gathered by the caller) is not empty; KERNEL_NOT_FOUND when absent.
 */
export { removeKernel } from "./remove-kernel.js";
