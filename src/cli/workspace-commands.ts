import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import type { VmView, WorkspaceRequest, WorkspaceView } from "../api/index.js";
import { callJson, callStream, callText, vmPath } from "../client/index.js";
import { BangerError } from "../errors/index.js";
import { outputMode, progressRenderer } from "./render.js";
import { runSsh } from "./session.js";
import type { CliEnv } from "./vm-commands.js";

export interface WorkspaceFlags {
  guestPath?: string;
  mode?: string;
  includeUntracked?: boolean;
  branch?: string;
  from?: string;
  dryRun?: boolean;
  fresh?: boolean;
  json?: boolean;
}

/** The request for a host path and the flags; the path is made absolute here, in the user's cwd. */
export function workspaceRequest(hostPath: string, flags: WorkspaceFlags): WorkspaceRequest {
  const mode = flags.mode ?? "shallow";
  if (mode !== "shallow" && mode !== "full_copy") {
    throw new BangerError("INVALID_ARGUMENT", `invalid --mode "${mode}": use shallow or full_copy`);
  }
  return {
    hostPath: path.resolve(hostPath),
    mode,
    ...(flags.guestPath === undefined ? {} : { guestPath: flags.guestPath }),
    ...(flags.includeUntracked ? { includeUntracked: true } : {}),
    ...(flags.branch === undefined ? {} : { branch: flags.branch }),
    ...(flags.from === undefined ? {} : { from: flags.from }),
    ...(flags.dryRun ? { dryRun: true } : {}),
    ...(flags.fresh ? { fresh: true } : {}),
  };
}

/** Checks a checkout without any VM (what `vm run <path>` does before creating one). */
export function planWorkspace(
  socket: string,
  req: WorkspaceRequest,
  json: boolean,
): Promise<WorkspaceView> {
  return callStream<WorkspaceView>(
    socket,
    "POST",
    "/v1/workspace/plan",
    req,
    progressRenderer(outputMode(json)),
  );
}

export function prepareWorkspace(
  socket: string,
  vm: string,
  req: WorkspaceRequest,
  json: boolean,
): Promise<WorkspaceView> {
  const render = progressRenderer(outputMode(json));
  return callStream<WorkspaceView>(socket, "POST", vmPath(vm, "/workspace/prepare"), req, render);
}

function hostHead(dir: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile("git", ["-C", dir, "rev-parse", "HEAD"], (err, stdout) =>
      resolve(err ? undefined : stdout.trim()),
    );
  });
}

export function registerWorkspaceCommands(vm: Command, env: CliEnv): void {
  const socket = async (): Promise<string> => {
    await env.connect();
    return env.paths.socketPath;
  };
  const ws = vm.command("workspace").description("copy a git checkout into a VM, and changes back");

  ws.command("prepare <vm> <path>")
    .description("copy the git work tree enclosing <path> into a running VM")
    .option("--guest-path <path>", "where in the guest (default: /root/<repo-name>)")
    .option(
      "--mode <mode>",
      "shallow (HEAD plus the working tree) or full_copy (the tree on disk)",
      "shallow",
    )
    .option("--include-untracked", "also send untracked files that are not ignored")
    .option("--branch <branch>", "create a guest-only branch")
    .option("--from <ref>", "start the branch at this revision")
    .option("--dry-run", "list what would be sent, and its size, without touching the VM")
    .option(
      "--fresh",
      "send the whole tree even when only some files changed since the last prepare",
    )
    .option("--json", "print progress and the result as JSON")
    .action(async (name: string, hostPath: string, flags: WorkspaceFlags) => {
      const result = await prepareWorkspace(
        await socket(),
        name,
        workspaceRequest(hostPath, flags),
        flags.json === true,
      );
      if (flags.json) process.stdout.write(JSON.stringify(result) + "\n");
      else if (result.listing) {
        for (const p of result.listing) process.stdout.write(`${p}\n`);
        process.stdout.write(
          `${result.files} files, ${result.bytes} bytes would be sent to ${result.guestPath}\n`,
        );
      } else {
        const u = result.update;
        const moved = u?.commit === undefined ? "" : `, HEAD moved to ${u.commit.slice(0, 12)}`;
        const how = u
          ? `; updated: ${u.sent} sent, ${u.bytes} bytes, ${u.removed} removed${moved}`
          : "";
        process.stdout.write(
          `${result.hostPath} -> ${name}:${result.guestPath} (${result.files} files, ${result.bytes} bytes${how})\n`,
        );
      }
    });

  ws.command("export <vm>")
    .description("the guest's changes as a patch that `git apply` takes on the host")
    .option("--base-commit <sha>", "diff against this commit (default: the one prepared from)")
    .option("--guest-path <path>", "the guest repository (default: the recorded workspace)")
    .option("-o, --output <file>", "write the patch here instead of stdout")
    .action(
      async (name: string, flags: { baseCommit?: string; guestPath?: string; output?: string }) => {
        const s = await socket();
        const body = {
          ...(flags.baseCommit === undefined ? {} : { baseCommit: flags.baseCommit }),
          ...(flags.guestPath === undefined ? {} : { guestPath: flags.guestPath }),
        };
        const res = await callText(s, vmPath(name, "/workspace/export"), "POST", body);
        const chunks: Buffer[] = [];
        for await (const c of res) chunks.push(c as Buffer);
        const patch = Buffer.concat(chunks);
        if (flags.output) await writeFile(flags.output, patch);
        else process.stdout.write(patch);
      },
    );

  vm.command("exec <vm> [cmd...]")
    .description("run a command after -- in the VM's workspace; its exit status becomes banger's")
    .option("--guest-path <path>", "run here instead of the recorded workspace")
    .action(async (name: string, args: string[], flags: { guestPath?: string }) => {
      const s = await socket();
      const view = await callJson<VmView>(s, "GET", vmPath(name));
      const cwd = flags.guestPath ?? view.workspace?.guestPath;
      if (view.workspace && !flags.guestPath) {
        const head = await hostHead(view.workspace.hostPath);
        if (head !== undefined && head !== view.workspace.commit) {
          process.stderr.write(
            `warning: the host checkout's HEAD moved since the last prepare (${view.workspace.commit?.slice(0, 12) ?? "none"} -> ${head.slice(0, 12)}); ` +
              `refresh with: banger vm workspace prepare ${name} ${view.workspace.hostPath}\n`,
          );
        }
      }
      const command = env.trailing ?? args;
      if (command.length === 0) {
        throw new BangerError("USAGE", "vm exec needs a command after --", {
          hint: `banger vm exec ${name} -- make test`,
        });
      }
      const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
      env.setExitCode(await runSsh(s, name, command, tty, cwd));
    });
}
