#!/usr/bin/env node
// banger: the command line. It talks to bangerd and is the only place that prints for humans.
import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { ensureDaemon, ping } from "../client/index.js";
import { resolvePaths } from "../paths/index.js";
import { registerAgentCommands } from "./agent-commands.js";
import { registerDoctorCommand } from "./doctor-command.js";
import { registerImageCommands } from "./image-commands.js";
import { registerWorkspaceCommands } from "./workspace-commands.js";
import { printError } from "./output.js";
import { registerRunCommand } from "./run-command.js";
import { registerSetCommand } from "./set-command.js";
import { registerSshConfigCommand, registerSshHelperCommands } from "./ssh-config-command.js";
import { registerVmCommands, type CliEnv } from "./vm-commands.js";

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  // Everything after the first `--` is a guest command and is never parsed as banger flags.
  const dd = argv.indexOf("--", 2);
  const trailing = dd >= 0 ? argv.slice(dd + 1) : undefined;
  const own = dd >= 0 ? argv.slice(0, dd) : argv;

  const paths = resolvePaths();
  let exitCode = 0;
  const env: CliEnv = {
    paths,
    config: undefined,
    configError: undefined,
    trailing,
    setExitCode: (c) => (exitCode = c),
    // The config (zod, TOML) is read only when it matters: for help texts, doctor, and before
    // starting a daemon; `vm list` against a running daemon never pays for it.
    loadConfig: async () => {
      if (env.config !== undefined || env.configError !== undefined) return;
      const { loadConfig } = await import("../config/index.js");
      try {
        env.config = await loadConfig(paths.configPath);
      } catch (err) {
        env.configError = err;
      }
    },
    connect: async () => {
      if (await ping(paths.socketPath)) return paths.socketPath;
      await env.loadConfig();
      if (env.config === undefined) throw env.configError;
      await ensureDaemon(paths);
      return paths.socketPath;
    },
  };
  if (own.length <= 2 || own.includes("--help") || own.includes("-h") || own[2] === "help") {
    await env.loadConfig();
  }

  const program = new Command("banger")
    .description("disposable Linux microVM sandboxes")
    .version(version(), "-V, --version-flag")
    .exitOverride()
    .showHelpAfterError();
  program
    .command("version")
    .description("print the version")
    .action(() => {
      process.stdout.write(`banger ${version()} (node ${process.version})\n`);
    });
  const vm = program.command("vm").description("create, run and manage VMs");
  registerVmCommands(vm, env);
  registerRunCommand(vm, env);
  registerAgentCommands(vm, env);
  registerWorkspaceCommands(vm, env);
  registerImageCommands(program, env);
  registerDoctorCommand(program, env);
  registerSetCommand(vm, env);
  registerSshHelperCommands(vm, env);
  registerSshConfigCommand(program, env);

  try {
    await program.parseAsync(own);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return 0;
      if (err.code === "commander.help") return 0;
      return 2;
    }
    return printError(err);
  }
  return exitCode;
}

process.on("SIGINT", () => {
  process.stderr.write("\nbanger: interrupted\n");
  process.exit(130);
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = printError(err);
  },
);
