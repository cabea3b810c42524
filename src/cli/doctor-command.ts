import type { Command } from "commander";
import { ping } from "../client/index.js";
import type { CheckResult } from "../doctor/index.js";
import type { CliEnv } from "./vm-commands.js";

export function registerDoctorCommand(program: Command, env: CliEnv): void {
  program
    .command("doctor")
    .description("check that this host can run banger")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      // Loaded here: the checks pull in the kernel and vmm modules, which no other command needs.
      const { runHostChecks } = await import("../doctor/index.js");
      await env.loadConfig();
      const dnsPort = env.config?.dns.port;
      const rows: CheckResult[] = await runHostChecks(
        env.paths,
        dnsPort === undefined ? {} : { dnsPort },
      );
      rows.push(
        env.config === undefined
          ? {
              name: "config",
              status: "FAIL",
              detail: String((env.configError as Error).message),
              fix: `fix ${env.paths.configPath}`,
            }
          : { name: "config", status: "PASS", detail: env.paths.configPath },
      );
      const daemon = await ping(env.paths.socketPath);
      rows.push(
        daemon
          ? {
              name: "daemon",
              status: "PASS",
              detail: `bangerd ${daemon.version} (pid ${daemon.pid}) answers`,
            }
          : {
              name: "daemon",
              status: "WARN",
              detail: `no daemon answers on ${env.paths.socketPath}`,
              fix: "it starts by itself on the next banger vm command",
            },
      );
      if (flags.json) process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
      else {
        for (const r of rows) {
          process.stdout.write(`${r.status.padEnd(5)} ${r.name.padEnd(13)} ${r.detail}\n`);
          if (r.fix && r.status !== "PASS")
            process.stdout.write(`      ${"".padEnd(13)} fix: ${r.fix}\n`);
        }
      }
      if (rows.some((r) => r.status === "FAIL")) env.setExitCode(1);
    });
}
