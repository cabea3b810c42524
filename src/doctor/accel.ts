import { access, constants } from "node:fs/promises";
import { listKernels } from "../kernel/index.js";
import type { Paths } from "../paths/index.js";
import { resolveAccel } from "../vmm/index.js";
import type { CheckResult } from "./checks.js";

/** KVM usable for standard guests, by the same cached probe boot the daemon uses. */
export async function accelCheck(paths: Paths): Promise<CheckResult> {
  const name = "KVM";
  try {
    await access("/dev/kvm", constants.R_OK | constants.W_OK);
  } catch {
    return {
      name,
      status: "WARN",
      detail: "/dev/kvm is missing: guests run under TCG software emulation (slow)",
      fix: "enable virtualization, or accept TCG",
    };
  }
  const kernel = (await listKernels(paths))[0];
  if (!kernel) {
    return {
      name,
      status: "WARN",
      detail: "/dev/kvm exists but is not probed yet (no kernel downloaded)",
      fix: "run `banger vm create --no-start` once, then `banger doctor` again",
    };
  }
  const result = await resolveAccel({
    requested: "auto",
    kernelPath: kernel.kernelPath,
    cachePath: paths.accelProbePath,
  });
  if (result.accel === "kvm") return { name, status: "PASS", detail: result.reason };
  return {
    name,
    status: "WARN",
    detail: `TCG fallback: ${result.reason}`,
    fix: "guests still run, slower; use a host whose KVM runs standard guests",
  };
}
