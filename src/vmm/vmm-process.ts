// Identifying a VMM process from its pid file without trusting it: a pid is only "ours" while
// /proc/<pid>/cmdline still names the VM's control socket, so a recycled pid is never signalled.
import { readFile } from "node:fs/promises";
import { isErrno } from "../errors/index.js";

/** The pid in `pidFile`, or undefined when the file is missing or does not hold a pid. */
export async function readPidFile(pidFile: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(pidFile, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  const match = /^\s*(\d{1,10})\s*$/.exec(text);
  const pid = match?.[1] === undefined ? NaN : Number(match[1]);
  return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
}

/** The NUL-separated argv of a process; undefined when it is gone (a zombie has none). */
export async function readCmdline(pid: number, procDir = "/proc"): Promise<string[] | undefined> {
  let raw: string;
  try {
    raw = await readFile(`${procDir}/${pid}/cmdline`, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT") || isErrno(err, "ESRCH")) return undefined;
    throw err;
  }
  if (raw === "") return undefined;
  return raw.replace(/\0$/, "").split("\0");
}

/** Splits a qemu option list at single commas; a doubled comma is a literal one. */
export function splitQemuOpts(opts: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < opts.length; i++) {
    const ch = opts[i];
    if (ch !== ",") {
      current += ch;
    } else if (opts[i + 1] === ",") {
      current += ",";
      i++;
    } else {
      parts.push(current);
      current = "";
    }
  }
  parts.push(current);
  return parts;
}

/** True when one argument carries `path=<controlSocket>` as a qemu option. */
export function cmdlineNamesSocket(argv: readonly string[], controlSocket: string): boolean {
  const wanted = `path=${controlSocket}`;
  return argv.some((arg) => splitQemuOpts(arg).includes(wanted));
}

/** True while `pid` runs and is the VMM serving `controlSocket`. */
export async function isVmmProcess(
  pid: number,
  controlSocket: string,
  procDir = "/proc",
): Promise<boolean> {
  const argv = await readCmdline(pid, procDir);
  return argv !== undefined && cmdlineNamesSocket(argv, controlSocket);
}
