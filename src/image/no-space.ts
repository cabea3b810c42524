// Private: recognising a full disk behind an error, whether from Node or a subprocess's stderr.
import { isErrno } from "../errors/index.js";

/** True when `err` or any of its causes is ENOSPC or says "No space left on device". */
export function isNoSpace(err: unknown): boolean {
  let cur: unknown = err;
  for (let depth = 0; cur instanceof Error && depth < 8; depth++) {
    if (isErrno(cur, "ENOSPC") || /no space left on device/i.test(cur.message)) return true;
    cur = cur.cause;
  }
  return false;
}
