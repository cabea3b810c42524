// `banger vm set <vm>`: CPUs and memory of a stopped VM; NAT on or off at any time.
import type { Command } from "commander";
import type { SetVmRequest, VmView } from "../api/index.js";
import { callJson, vmPath } from "../client/index.js";
import { BangerError } from "../errors/index.js";
import type { CliEnv } from "./vm-commands.js";

interface SetFlags {
  nat?: boolean;
  vcpu?: string;
  memory?: string;
  json?: boolean;
}

/** The request for `flags`; USAGE when there is nothing to change or --vcpu is no number. */
export function setRequest(flags: SetFlags): SetVmRequest {
  const req: SetVmRequest = {};
  if (flags.vcpu !== undefined) {
    if (!/^\d+$/.test(flags.vcpu)) {
      throw new BangerError("INVALID_ARGUMENT", `invalid --vcpu "${flags.vcpu}": not a number`);
    }
    req.vcpus = Number(flags.vcpu);
  }
  if (flags.memory !== undefined) req.memory = flags.memory;
  if (flags.nat !== undefined) req.nat = flags.nat;
  if (Object.keys(req).length === 0) {
    throw new BangerError("USAGE", "nothing to set: give --nat, --no-nat, --vcpu or --memory", {
      hint: "banger vm set <vm> --nat",
    });
  }
  return req;
}

export function registerSetCommand(vm: Command, env: CliEnv): void {
  vm.command("set <vm>")
    .description("change a VM: NAT at any time; CPUs and memory while it is stopped")
    .option("--nat", "masquerade its traffic so it reaches beyond the bridge")
    .option("--no-nat", "keep it on the bridge (cuts a running VM's outside connections)")
    .option("--vcpu <n>", "virtual CPUs (VM stopped)")
    .option("--memory <size>", "memory, MiB or 512M, 2G (VM stopped)")
    .option("--json", "print the VM as JSON")
    .action(async (name: string, flags: SetFlags) => {
      const req = setRequest(flags);
      await env.connect();
      const path = vmPath(name, "/set");
      const view = await callJson<VmView>(env.paths.socketPath, "POST", path, req);
      process.stdout.write(
        flags.json
          ? JSON.stringify(view) + "\n"
          : `${view.name}: nat ${view.nat ? "on" : "off"}, ${view.vcpus} vcpu, ` +
              `${view.memoryMib} MiB\n`,
      );
    });
}
