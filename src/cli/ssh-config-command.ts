// `banger ssh-config [--install|--uninstall]`, and the two helpers its ssh_config runs:
// `vm ssh-proxy <host>` (the connection) and `vm known-hosts <host>` (the pinned key).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import type { VmView } from "../api/index.js";
import { callJson, vmPath } from "../client/index.js";
import { BangerError, isErrno } from "../errors/index.js";
import { editSshConfig, sshConfigText, withInclude, withoutInclude } from "./ssh-config-file.js";
import type { CliEnv } from "./vm-commands.js";

const SSH_PORT = 22;
const CONNECT_TIMEOUT_MS = 10_000;
/** The variables that point the CLI at a daemon; ssh's helpers must reach the same one. */
const DAEMON_ENV = ["BANGER_STATE_DIR", "BANGER_RUN_DIR", "BANGER_SOCKET", "BANGER_CONFIG"];

export function registerSshConfigCommand(program: Command, env: CliEnv): void {
  program
    .command("ssh-config")
    .description("write banger's ssh_config so that `ssh <name>.vm` works, and print its path")
    .option("--install", "include it from ~/.ssh/config (at the top, between markers)")
    .option("--uninstall", "remove that include from ~/.ssh/config")
    .action(async (flags: { install?: boolean; uninstall?: boolean }) => {
      if (flags.install && flags.uninstall) {
        throw new BangerError("USAGE", "--install and --uninstall cannot be combined");
      }
      const file = path.join(env.paths.sshDir, "config");
      const userConfig = path.join(os.homedir(), ".ssh", "config");
      if (flags.uninstall) {
        const { changed, path: edited } = await editSshConfig(userConfig, withoutInclude);
        process.stdout.write(changed ? `removed banger's Include from ${edited}\n` : "");
        return;
      }
      await writeBangerSshConfig(env, file);
      process.stdout.write(`${file}\n`);
      if (flags.install) {
        const { changed, path: edited } = await editSshConfig(userConfig, (t) =>
          withInclude(t, file),
        );
        process.stderr.write(
          changed ? `added Include ${file} to ${edited}\n` : `${edited} already includes it\n`,
        );
      }
    });
}

async function writeBangerSshConfig(env: CliEnv, file: string): Promise<void> {
  const cli = [process.execPath, path.resolve(process.argv[1] ?? "banger")];
  const vars = DAEMON_ENV.flatMap((k) => {
    const v = process.env[k];
    return v === undefined ? [] : [`${k}=${v}`];
  });
  const text = sshConfigText({
    keyPath: env.paths.sshKeyPath,
    knownHostsPath: env.paths.knownHostsPath,
    // ssh runs KnownHostsCommand without a shell and wants an absolute path first.
    cli: vars.length > 0 ? ["/usr/bin/env", ...vars, ...cli] : cli,
  });
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, text, { mode: 0o644 });
}

/** `web.vm`, `WEB.vm.` → `web`; INVALID_ARGUMENT for anything else. */
export function vmNameOfHost(host: string): string {
  const m = /^([a-z0-9-]+)\.vm\.?$/i.exec(host);
  if (m?.[1] !== undefined) return m[1].toLowerCase();
  throw new BangerError("INVALID_ARGUMENT", `"${host}" is not a VM host name`, {
    hint: "use <vm name>.vm, as `banger vm list` shows the names",
  });
}

async function showVm(env: CliEnv, host: string): Promise<VmView> {
  await env.connect();
  return callJson<VmView>(env.paths.socketPath, "GET", vmPath(vmNameOfHost(host)));
}

export function registerSshHelperCommands(vm: Command, env: CliEnv): void {
  vm.command("ssh-proxy <host>", { hidden: true })
    .description("connect stdin and stdout to the SSH port of <name>.vm (ssh's ProxyCommand)")
    .action(async (host: string) => {
      const view = await showVm(env, host);
      if (view.address === undefined) {
        throw new BangerError(
          "VM_INVALID_STATE",
          `cannot reach "${host}": VM "${view.name}" is ${view.state}`,
          { hint: `banger vm start ${view.name}` },
        );
      }
      await pipeTo(view.address, SSH_PORT, host);
    });

  vm.command("known-hosts <host>", { hidden: true })
    .description("print the pinned host key of <name>.vm under that name (KnownHostsCommand)")
    .action(async (host: string) => {
      const view = await showVm(env, host);
      process.stdout.write(await pinnedLines(env.paths.knownHostsPath, view.id, host));
    });
}

/** The known_hosts lines filed under `alias`, rewritten to be filed under `host`. */
async function pinnedLines(knownHostsPath: string, alias: string, host: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(knownHostsPath, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT")) return "";
    throw err;
  }
  return text
    .split("\n")
    .filter((l) => l.split(/[ \t]/, 1)[0] === alias)
    .map((l) => `${host}${l.slice(alias.length)}\n`)
    .join("");
}

function pipeTo(address: string, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port, timeout: CONNECT_TIMEOUT_MS });
    socket.once("timeout", () => socket.destroy(new Error("connection timed out")));
    socket.once("connect", () => {
      socket.setTimeout(0);
      process.stdin.pipe(socket);
      socket.pipe(process.stdout);
    });
    socket.once("error", (err) =>
      reject(
        new BangerError("VM_SSH_UNAVAILABLE", `cannot connect to "${host}" (${address}:${port})`, {
          cause: err,
          hint: `banger vm logs ${host.replace(/\.vm\.?$/i, "")}`,
        }),
      ),
    );
    socket.once("close", () => resolve());
  });
}
