// Private: creating a VM disk file so that it either exists complete or not at all.
import { open, rm } from "node:fs/promises";
import { BangerError, isErrno } from "../errors/index.js";
import { isNoSpace } from "./no-space.js";

/**
 * Claims `file` (it must not exist yet, so a VM's live disk is never overwritten), then runs
 * `fill`. On any failure the half-made file is removed and the error becomes NO_SPACE or
 * DISK_SETUP_FAILED, with `what` ("work disk", "root overlay") in the message.
 */
export async function createDiskFile(
  file: string,
  what: string,
  fill: () => Promise<void>,
): Promise<void> {
  try {
    await (await open(file, "wx", 0o600)).close();
  } catch (err) {
    throw diskError(file, what, err);
  }
  try {
    await fill();
  } catch (err) {
    await rm(file, { force: true });
    throw diskError(file, what, err);
  }
}

function diskError(file: string, what: string, err: unknown): BangerError {
  const why = err instanceof Error ? err.message : String(err);
  if (isNoSpace(err)) {
    return new BangerError("NO_SPACE", `cannot create ${what} "${file}": no space left on device`, {
      hint: "free some disk space (`banger vm prune` removes stopped VMs) and try again",
      cause: err,
    });
  }
  const hint = isErrno(err, "EEXIST")
    ? `the file is left from an earlier attempt; remove "${file}" if no VM uses it`
    : "`banger doctor` checks the host tools and the state dir";
  return new BangerError("DISK_SETUP_FAILED", `cannot create ${what} "${file}": ${why}`, {
    hint,
    cause: err,
  });
}
