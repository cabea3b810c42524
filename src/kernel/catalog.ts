// Private: the kernels banger knows how to fetch, and the names a store entry may have.
import { BangerError } from "../errors/index.js";

export const DEFAULT_KERNEL = "debian-bookworm-cloud";
export const DEFAULT_MIRROR = "http://deb.debian.org/debian";

export const KERNEL_CATALOG: Record<string, { suite: string; metapackage: string }> = {
  "debian-bookworm-cloud": { suite: "bookworm", metapackage: "linux-image-cloud-amd64" },
  "debian-trixie-cloud": { suite: "trixie", metapackage: "linux-image-cloud-amd64" },
};

const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isKernelName(name: string): boolean {
  return NAME_RE.test(name);
}

/** Throws INVALID_NAME unless `name` is a DNS label (it becomes a directory name). */
export function checkKernelName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new BangerError(
      "INVALID_NAME",
      `invalid kernel name ${JSON.stringify(name)}: use a-z, 0-9 and inner hyphens, at most 63`,
      { hint: "run `banger kernel list` to see the stored kernels" },
    );
  }
}

/** The catalog entry for `name`, or KERNEL_NOT_FOUND listing the names that exist. */
export function catalogEntry(name: string): { suite: string; metapackage: string } {
  const entry = KERNEL_CATALOG[name];
  if (entry === undefined) {
    const known = Object.keys(KERNEL_CATALOG).join(", ");
    throw new BangerError(
      "KERNEL_NOT_FOUND",
      `unknown kernel "${name}": banger can fetch ${known}`,
      {
        hint: `run \`banger kernel pull ${DEFAULT_KERNEL}\`, or \`banger kernel import\` your own`,
      },
    );
  }
  return entry;
}
