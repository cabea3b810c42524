import type { Command } from "commander";
import type { VmView } from "../api/index.js";
import { callJson, callStream, vmPath } from "../client/index.js";
import { BangerError } from "../errors/index.js";
import { outputMode, progressRenderer } from "./render.js";
import { runSsh } from "./session.js";
import { planWorkspace, prepareWorkspace, workspaceRequest } from "./workspace-commands.js";
import { addCreateFlags, createRequest, type CliEnv, type CreateFlags } from "./vm-commands.js";

interface RunFlags extends CreateFlags {
  rm?: boolean;
  detach?: boolean;
  guestPath?: string;
}

/**
 * `banger vm run [path]`: create, boot, copy the checkout at `path` to /root/<repo> when given,
 * then an interactive SSH session or the command after `--` (started in the checkout), whose
 * exit status becomes banger's. `--rm` deletes the VM afterwards unless the boot failed.
 */
export function registerRunCommand(vm: Command, env: CliEnv): void {
  addCreateFlags(
    vm
      .command("run [path]")
      .description("create and start a VM, then open SSH or run a command after --"),
    env,
  )
    .option("--rm", "delete the VM when the session or command ends")
    .option("-d, --detach", "create and start without attaching")
    .option(
      "--guest-path <path>",
      "where the checkout goes in the guest (default: /root/<repo-name>)",
    )
    .action(async (pathArg: string | undefined, flags: RunFlags) => {
      if (flags.detach && flags.rm) {
        throw new BangerError(
          "USAGE",
          "-d and --rm cannot be combined: a detached VM would be deleted at once",
          {
            hint: "drop --rm, and delete it later with `banger vm delete`",
          },
        );
      }
      await env.connect();
      const socket = env.paths.socketPath;
      const render = progressRenderer(outputMode(flags.json === true));
      const { rm: _rm, detach: _detach, guestPath, ...create } = flags;
      // A bad checkout is refused before any VM exists.
      const wsReq =
        pathArg === undefined
          ? undefined
          : workspaceRequest(pathArg, guestPath === undefined ? {} : { guestPath });
      if (wsReq) await planWorkspace(socket, wsReq, flags.json === true);

      const req = { ...createRequest(create, true), waitForSsh: !flags.detach || !!wsReq };
      const vmView = await callStream<VmView>(socket, "POST", "/v1/vms", req, render);
      let cwd: string | undefined;
      try {
        if (wsReq)
          cwd = (await prepareWorkspace(socket, vmView.name, wsReq, flags.json === true)).guestPath;
      } catch (err) {
        if (flags.rm) await callJson(socket, "DELETE", vmPath(vmView.name));
        throw err;
      }
      if (flags.detach) {
        process.stdout.write(flags.json ? JSON.stringify(vmView) + "\n" : `${vmView.name}\n`);
        return;
      }

      const command = env.trailing;
      const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
      const code = await runSsh(socket, vmView.name, command, tty, cwd);
      if (flags.rm) {
        await callJson(socket, "DELETE", vmPath(vmView.name));
      } else if (!command?.length) {
        process.stderr.write(
          `VM "${vmView.name}" is still running; stop it with: banger vm stop ${vmView.name}\n`,
        );
      }
      env.setExitCode(code);
    });
}
