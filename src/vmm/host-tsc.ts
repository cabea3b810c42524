// The host's TSC rate, which a TCG guest needs to be told (see accelKernelArgs). Read from
// /proc/cpuinfo, and only trusted where "cpu MHz" is the TSC rate rather than a moving clock.
import { readFile, stat } from "node:fs/promises";
import { isErrno } from "../errors/index.js";

/**
 * The TSC rate in kHz from the text of /proc/cpuinfo, or undefined when it cannot be trusted:
 * the TSC must be invariant (`constant_tsc` and `nonstop_tsc`), and "cpu MHz" is only the TSC
 * rate when no frequency scaling moves it (`cpufreqActive` false), as in most virtual machines.
 */
export function parseTscKhz(cpuinfo: string, cpufreqActive: boolean): number | undefined {
  if (cpufreqActive) return undefined;
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
  if (!flags.includes("constant_tsc") || !flags.includes("nonstop_tsc")) return undefined;
  const mhz = Number(/^cpu MHz\s*:\s*([0-9.]+)\s*$/m.exec(cpuinfo)?.[1]);
  if (!Number.isFinite(mhz) || mhz < 100 || mhz > 10_000) return undefined;
  return Math.round(mhz * 1000);
}

/** The host TSC rate in kHz, or undefined when this host does not say it reliably. */
export async function readHostTscKhz(
  procDir = "/proc",
  sysDir = "/sys",
): Promise<number | undefined> {
  let cpuinfo: string;
  try {
    cpuinfo = await readFile(`${procDir}/cpuinfo`, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  const cpufreqActive = await exists(`${sysDir}/devices/system/cpu/cpu0/cpufreq`);
  return parseTscKhz(cpuinfo, cpufreqActive);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isErrno(err, "ENOENT")) return false;
    throw err;
  }
}
