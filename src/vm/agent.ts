import { BangerError, isBangerError } from "../errors/index.js";
import { AgentClient, type AgentHealth } from "../guest/index.js";
import { getImage } from "../image/index.js";
import { vmFiles } from "../paths/index.js";
import type { VmRecord } from "../store/index.js";
import type { VmContext } from "./context.js";

/**
 * The agent client of a VM, made on first use and kept while the VM runs. There is exactly one
 * per VM: QEMU's socket serves one connection at a time, so a second client would wait behind
 * the first and time out.
 */
export function agentClient(ctx: VmContext, vm: VmRecord): AgentClient {
  let client = ctx.agents.get(vm.id);
  if (!client) {
    client = new AgentClient({
      socketPath: vmFiles(ctx.paths, vm.id).agentSocket,
      vmName: vm.name,
    });
    ctx.agents.set(vm.id, client);
  }
  return client;
}

/** Closes and forgets a VM's agent clients (on stop and delete). */
export function dropAgent(ctx: VmContext, vmId: string): void {
  ctx.agents.get(vmId)?.close();
  ctx.agents.delete(vmId);
  ctx.lastHealth.delete(vmId);
}

/** True when the VM's image carries the guest agent. */
export async function imageHasAgent(ctx: VmContext, vm: VmRecord): Promise<boolean> {
  try {
    return (await getImage(ctx.paths, vm.image)).agent;
  } catch (err) {
    if (isBangerError(err, "IMAGE_NOT_FOUND")) return false;
    throw err;
  }
}

/**
 * The agent of a running VM whose image has one. AGENT_UNAVAILABLE naming the VM and the
 * image when the image has no agent.
 */
export async function requireAgent(ctx: VmContext, vm: VmRecord): Promise<AgentClient> {
  if (!(await imageHasAgent(ctx, vm))) {
    throw new BangerError(
      "AGENT_UNAVAILABLE",
      `VM "${vm.name}" has no guest agent: its image "${vm.image}" was built without it`,
      {
        hint: `use \`banger vm ssh ${vm.name}\`, or an image with the agent such as debian-bookworm`,
      },
    );
  }
  return agentClient(ctx, vm);
}

/** Asks the agent for its health and remembers the answer for `vm show`. */
export async function checkHealth(ctx: VmContext, vm: VmRecord): Promise<AgentHealth> {
  const health = await agentClient(ctx, vm).health();
  ctx.lastHealth.set(vm.id, { health, at: new Date().toISOString() });
  return health;
}
