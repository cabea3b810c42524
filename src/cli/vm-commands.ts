import type { Command } from "commander";
import type { BatchItem, CreateVmRequest, VmView } from "../api/index.js";
import { callJson, callStream, callText, vmPath } from "../client/index.js";
import type { Config } from "../config/index.js";
// size.ts alone: the config module pulls in zod and TOML, too slow for every command.
import { formatMib } from "../config/size.js";
import { BangerError } from "../errors/index.js";
import type { Paths } from "../paths/index.js";
import { ago, printError, table } from "./output.js";
import { outputMode, progressRenderer } from "./render.js";
import { runSsh } from "./session.js";

export interface CliEnv {
  paths: Paths;
  /** Set by `loadConfig`; stays undefined when the file is invalid (see `configError`). */
  config: Config | undefined;
  configError: unknown;
  /**
   * Makes sure a daemon answers and returns its socket. The config file is read (and a bad one
   * refused with exit 3) only when a daemon has to be started.
   */
  connect(): Promise<string>;
  /** Reads the config file into `config` (or `configError`), once. */
  loadConfig(): Promise<void>;
  /** The words after the first `--`: a guest command. */
  trailing: string[] | undefined;
  setExitCode(code: number): void;
}

export interface CreateFlags {
  name?: string;
  image?: string;
  kernel?: string;
  vcpu?: string;
  memory?: string;
  diskSize?: string;
  bootTimeout?: string;
  json?: boolean;
  nat?: boolean;
}

async function daemon(env: CliEnv): Promise<string> {
  await env.connect();
  return env.paths.socketPath;
}

export function createRequest(flags: CreateFlags, start: boolean): CreateVmRequest {
  let vcpus: number | undefined;
  if (flags.vcpu !== undefined) {
    vcpus = Number(flags.vcpu);
    if (!/^\d+$/.test(flags.vcpu)) {
      throw new BangerError(
        "INVALID_ARGUMENT",
        `invalid --vcpu "${flags.vcpu}": not a whole number`,
      );
    }
  }
  const req: CreateVmRequest = { start };
  if (flags.name !== undefined) req.name = flags.name;
  if (flags.image !== undefined) req.image = flags.image;
  if (flags.kernel !== undefined) req.kernel = flags.kernel;
  if (vcpus !== undefined) req.vcpus = vcpus;
  if (flags.memory !== undefined) req.memory = flags.memory;
  if (flags.diskSize !== undefined) req.diskSize = flags.diskSize;
  if (flags.bootTimeout !== undefined) req.bootTimeout = flags.bootTimeout;
  if (flags.nat === true) req.nat = true;
  return req;
}

/** Adds --name, --image, … with the resolved defaults in their help. */
export function addCreateFlags(cmd: Command, env: CliEnv): Command {
  const d = env.config?.defaults;
  const o = env.config?.origins;
  const def = (value: string | number | undefined, origin: string | undefined): string =>
    value === undefined
      ? ""
      : ` (default: ${value}, ${origin === "built-in" || origin === undefined ? "built-in" : `from ${origin}`})`;
  return cmd
    .option("--name <name>", "VM name, a DNS label (default: a generated two-word name)")
    .option("--image <image>", `root filesystem image${def(d?.image, o?.image)}`)
    .option("--kernel <kernel>", `kernel${def(d?.kernel, o?.kernel)}`)
    .option("--vcpu <n>", `virtual CPUs${def(d?.vcpus, o?.vcpus)}`)
    .option(
      "--memory <size>",
      `memory, MiB or 512M, 2G${def(d && formatMib(d.memoryMib), o?.memoryMib)}`,
    )
    .option(
      "--disk-size <size>",
      `work disk at /root${def(d && formatMib(d.diskSizeMib), o?.diskSizeMib)}`,
    )
    .option(
      "--boot-timeout <duration>",
      "how long to wait for SSH, e.g. 90s (default: 180s under TCG, 45s under KVM)",
    )
    .option(
      "--nat",
      "masquerade its traffic so it reaches beyond the bridge (default: bridge only)",
    )
    .option("--json", "print progress and the result as JSON lines");
}

async function createVm(env: CliEnv, flags: CreateFlags, start: boolean): Promise<VmView> {
  const socket = await daemon(env);
  const render = progressRenderer(outputMode(flags.json === true));
  return callStream<VmView>(socket, "POST", "/v1/vms", createRequest(flags, start), render);
}

export function registerVmCommands(vm: Command, env: CliEnv): void {
  addCreateFlags(vm.command("create").description("create a VM and start it"), env)
    .option("--no-start", "create only; start later with `banger vm start`")
    .action(async (flags: CreateFlags & { start: boolean }) => {
      const view = await createVm(env, flags, flags.start);
      if (flags.json) process.stdout.write(JSON.stringify(view) + "\n");
      else process.stdout.write(`${view.name}\n`);
    });

  for (const action of ["start", "stop", "restart"] as const) {
    vm.command(`${action} <vm...>`)
      .description(`${action} one or more VMs`)
      .option("--json", "print progress and results as JSON lines")
      .action(async (names: string[], flags: { json?: boolean }) => {
        const socket = await daemon(env);
        const render = progressRenderer(outputMode(flags.json === true));
        await forEachVm(env, names, async (name) => {
          const view = await callStream<VmView>(
            socket,
            "POST",
            vmPath(name, `/${action}`),
            {},
            render,
          );
          process.stdout.write(
            flags.json ? JSON.stringify(view) + "\n" : `${view.name}: ${view.state}\n`,
          );
        });
      });
  }

  vm.command("kill <vm...>")
    .description("send a signal to the VMM process (default SIGKILL)")
    .option("-s, --signal <signal>", "signal name", "SIGKILL")
    .action(async (names: string[], flags: { signal: string }) => {
      const socket = await daemon(env);
      const signal = flags.signal.toUpperCase().startsWith("SIG")
        ? flags.signal.toUpperCase()
        : `SIG${flags.signal.toUpperCase()}`;
      await forEachVm(env, names, async (name) => {
        const view = await callJson<VmView>(socket, "POST", vmPath(name, "/kill"), { signal });
        process.stdout.write(`${view.name}: ${view.state}\n`);
      });
    });

  vm.command("delete <vm...>")
    .alias("rm")
    .description("delete VMs with their disks (running ones are killed)")
    .action(async (names: string[]) => {
      const socket = await daemon(env);
      await forEachVm(env, names, async (name) => {
        await callJson(socket, "DELETE", vmPath(name));
        process.stdout.write(`${name}: deleted\n`);
      });
    });

  vm.command("prune")
    .description("delete every stopped, created or failed VM")
    .option("-f, --force", "do not ask")
    .action(async (flags: { force?: boolean }) => {
      const socket = await daemon(env);
      if (!flags.force) {
        throw new BangerError("USAGE", "prune deletes VMs and their disks: confirm with --force", {
          hint: "banger vm prune --force",
        });
      }
      const items = await callJson<BatchItem[]>(socket, "POST", "/v1/vms/prune", {});
      for (const item of items) {
        if (item.ok) process.stdout.write(`${item.name}: deleted\n`);
        else {
          process.stderr.write(`banger: cannot delete "${item.name}": ${item.error?.message}\n`);
          env.setExitCode(1);
        }
      }
      if (items.length === 0) process.stdout.write("nothing to prune\n");
    });

  vm.command("list")
    .alias("ls")
    .description("list VMs")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      const socket = await daemon(env);
      const vms = await callJson<VmView[]>(socket, "GET", "/v1/vms");
      if (flags.json) {
        process.stdout.write(JSON.stringify(vms, null, 2) + "\n");
        return;
      }
      const rows = vms.map((v) => [
        v.name,
        v.state,
        v.address ?? "-",
        v.image,
        String(v.vcpus),
        formatMib(v.memoryMib),
        ago(v.createdAt),
        v.workspace ? v.workspace.guestPath : "-",
      ]);
      process.stdout.write(
        table(
          ["NAME", "STATE", "ADDRESS", "IMAGE", "VCPU", "MEMORY", "CREATED", "WORKSPACE"],
          rows,
        ),
      );
    });

  vm.command("show <vm>")
    .description("show one VM")
    .option("--json", "print JSON")
    .action(async (name: string, flags: { json?: boolean }) => {
      const socket = await daemon(env);
      const v = await callJson<VmView>(socket, "GET", vmPath(name));
      if (flags.json) {
        process.stdout.write(JSON.stringify(v, null, 2) + "\n");
        return;
      }
      const rows: [string, string | number | undefined][] = [
        ["name", v.name],
        ["id", v.id],
        ["state", v.state],
        ["address", v.address],
        ["image", v.image],
        ["kernel", v.kernel],
        ["vcpus", v.vcpus],
        ["memory", formatMib(v.memoryMib)],
        ["work disk", formatMib(v.diskSizeMib)],
        ["accel", v.accel],
        ["pid", v.pid],
        ["tap", v.tap],
        ["created", v.createdAt],
        ["console", v.consoleLog],
        ["last error", v.lastError],
        [
          "workspace",
          v.workspace &&
            `${v.workspace.hostPath} -> ${v.workspace.guestPath} (${v.workspace.commit?.slice(0, 12) ?? "no commit"})`,
        ],
      ];
      if (v.agent?.health) {
        const h = v.agent.health;
        const systemd = h.systemd
          ? `systemd ${h.systemd.state}${h.systemd.failedUnits?.length ? ` (failed: ${h.systemd.failedUnits.join(", ")})` : ""}`
          : "no systemd";
        rows.push([
          "agent",
          `${h.agentVersion}, up ${Math.round(h.uptimeSeconds ?? 0)} s, ${systemd}`,
        ]);
      }
      if (v.agent?.error) rows.push(["agent error", v.agent.error]);
      for (const [k, val] of rows)
        if (val !== undefined) process.stdout.write(`${(k + ":").padEnd(12)}${val}\n`);
    });

  vm.command("logs <vm>")
    .description("print the VM's serial console")
    .option("-f, --follow", "keep printing what the guest writes")
    .action(async (name: string, flags: { follow?: boolean }) => {
      const socket = await daemon(env);
      const res = await callText(socket, vmPath(name, `/logs${flags.follow ? "?follow=1" : ""}`));
      await new Promise<void>((resolve, reject) => {
        res.pipe(process.stdout, { end: false });
        res.on("end", resolve);
        res.on("error", reject);
      });
    });

  vm.command("ssh <vm> [args...]")
    .description("open an SSH session in the VM, or run a command there after --")
    .action(async (name: string, args: string[]) => {
      const socket = await daemon(env);
      const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
      env.setExitCode(await runSsh(socket, name, env.trailing ?? args, tty));
    });
}

/** Runs `fn` for each VM, reports each failure, and sets exit code 1 if any failed. */
async function forEachVm(
  env: CliEnv,
  names: string[],
  fn: (name: string) => Promise<void>,
): Promise<void> {
  let failed = 0;
  for (const name of names) {
    try {
      await fn(name);
    } catch (err) {
      failed++;
      const code = printError(err);
      if (names.length === 1) env.setExitCode(code);
    }
  }
  if (failed > 0 && names.length > 1) env.setExitCode(1);
}
