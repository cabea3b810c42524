import type { Command } from "commander";
import type { VmPorts, VmStats } from "../api/index.js";
import { callJson, vmPath } from "../client/index.js";
import { printError, table } from "./output.js";
import type { CliEnv } from "./vm-commands.js";

function bytes(n: number | null): string {
  if (n === null) return "-";
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)}G`;
  return `${Math.round(n / 2 ** 20)}M`;
}

/** `vm ports` and `vm stats`: answered by the guest agent, so they work without SSH. */
export function registerAgentCommands(vm: Command, env: CliEnv): void {
  vm.command("ports <vm...>")
    .description("list what listens inside VMs (asks the guest agent, not SSH)")
    .option("--json", "print JSON")
    .action(async (names: string[], flags: { json?: boolean }) => {
      await env.connect();
      const socket = env.paths.socketPath;
      const results = await Promise.allSettled(
        names.map((n) => callJson<VmPorts>(socket, "GET", vmPath(n, "/ports"))),
      );
      const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      if (flags.json) process.stdout.write(JSON.stringify(ok, null, 2) + "\n");
      else {
        const rows = ok.flatMap((v) =>
          v.ports.map((p) => [
            ...(names.length > 1 ? [v.vm] : []),
            p.protocol,
            p.address,
            String(p.port),
            p.process === null ? "-" : `${p.process}${p.pid === null ? "" : ` (${p.pid})`}`,
            p.url ?? p.endpoint,
          ]),
        );
        const head = ["PROTO", "ADDRESS", "PORT", "PROCESS", "ENDPOINT"];
        process.stdout.write(table(names.length > 1 ? ["VM", ...head] : head, rows));
      }
      let code = 0;
      for (const r of results) if (r.status === "rejected") code = printError(r.reason);
      if (code !== 0) env.setExitCode(names.length > 1 ? 1 : code);
    });

  vm.command("stats <vm>")
    .description("memory, load and disk figures from the guest agent and the host")
    .option("--json", "print JSON")
    .action(async (name: string, flags: { json?: boolean }) => {
      await env.connect();
      const s = await callJson<VmStats>(env.paths.socketPath, "GET", vmPath(name, "/stats"));
      if (flags.json) {
        process.stdout.write(JSON.stringify(s, null, 2) + "\n");
        return;
      }
      const m = s.guest.memory;
      const lines = [
        `memory:     ${bytes(m.availableBytes)} available of ${bytes(m.totalBytes)}`,
        `load:       ${s.guest.loadAverage?.join(" ") ?? "-"} (${s.guest.cpuCount} CPUs)`,
        ...s.guest.filesystems.map(
          (f) => `disk ${f.path.padEnd(6)} ${bytes(f.usedBytes)} used, ${bytes(f.freeBytes)} free`,
        ),
        `host:       VMM pid ${s.host.pid}, ${bytes(s.host.rssBytes)} resident, ${s.host.cpuSeconds.toFixed(1)} s CPU`,
        ...s.host.disks.map(
          (d) =>
            `host disk ${d.name.padEnd(5)} ${bytes(d.allocatedBytes)} on disk (${bytes(d.apparentBytes)} apparent)`,
        ),
      ];
      process.stdout.write(lines.join("\n") + "\n");
    });
}
