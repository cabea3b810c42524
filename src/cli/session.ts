import { spawn } from "node:child_process";
import type { SshPlan } from "../api/index.js";
import { callJson, vmPath } from "../client/index.js";
import { BangerError } from "../errors/index.js";

/**
 * Runs the system ssh against a VM with the terminal passed through, and resolves with ssh's
 * exit status (the guest command's status, or 255 when ssh itself failed).
 */
export async function runSsh(
  socketPath: string,
  vm: string,
  command: string[] | undefined,
  tty: boolean,
  cwd?: string,
): Promise<number> {
  const query = new URLSearchParams({ tty: tty ? "1" : "0" });
  if (command && command.length) query.set("cmd", JSON.stringify(command));
  if (cwd !== undefined) query.set("cwd", cwd);
  const plan = await callJson<SshPlan>(socketPath, "GET", vmPath(vm, `/ssh?${query.toString()}`));
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", plan.argv, { stdio: "inherit" });
    // The terminal's Ctrl-C belongs to the remote side while ssh runs.
    const ignore = (): void => {};
    process.on("SIGINT", ignore);
    child.on("error", (err) => {
      process.off("SIGINT", ignore);
      reject(
        new BangerError("HOST_MISSING_TOOL", `cannot run "ssh"`, {
          cause: err,
          hint: "apt-get install openssh-client",
        }),
      );
    });
    child.on("close", (code, signal) => {
      process.off("SIGINT", ignore);
      resolve(code ?? (signal ? 128 + 1 : 255));
    });
  });
}
