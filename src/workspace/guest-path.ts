// Private: where a workspace lives in the guest, and the names of its temporary siblings.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { BangerError } from "../errors/index.js";

const MAX_GUEST_PATH_CHARS = 1024;

/** `/root/<name of the host work tree>`. */
export function defaultGuestPath(hostTop: string): string {
  return path.posix.join("/root", path.basename(hostTop));
}

/**
 * `guestPath` when it is an absolute, normalised path at least two levels deep (so that no
 * top-level directory such as `/root` is ever replaced); INVALID_ARGUMENT otherwise.
 */
export function checkGuestPath(guestPath: string): string {
  const ok =
    guestPath.startsWith("/") &&
    path.posix.normalize(guestPath) === guestPath &&
    !guestPath.endsWith("/") &&
    guestPath.split("/").length >= 3 &&
    guestPath.length <= MAX_GUEST_PATH_CHARS &&
    !/[\0\n]/.test(guestPath);
  if (ok) return guestPath;
  throw new BangerError(
    "INVALID_ARGUMENT",
    `invalid guest path ${JSON.stringify(guestPath)}: expected an absolute path below a top-level directory, like "/root/repo"`,
    {
      hint: "pass a path such as `--guest-path /root/repo`",
    },
  );
}

/** A fresh sibling of `guestPath` to build the new workspace in. */
export function stagingPath(guestPath: string): string {
  return `${guestPath}.banger-tmp-${randomBytes(4).toString("hex")}`;
}

/** Where the previous workspace waits while the new one is renamed into place. */
export function previousPath(guestPath: string): string {
  return `${guestPath}.banger-old-${randomBytes(4).toString("hex")}`;
}

/**
 * The guest file whose token and mtime mark the end of the last prepare: a hidden sibling, so
 * that it is neither part of the workspace nor removed with it.
 */
export function stampPath(guestPath: string): string {
  return path.posix.join(
    path.posix.dirname(guestPath),
    `.${path.posix.basename(guestPath)}.banger-stamp`,
  );
}
