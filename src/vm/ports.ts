import { request } from "node:http";
import type { PortView, VmPorts } from "../api/index.js";
import type { AgentPort } from "../guest/index.js";
import { vmFiles } from "../paths/index.js";
import type { VmRecord } from "../store/index.js";
import { requireAgent } from "./agent.js";
import type { VmContext } from "./context.js";
import { readHandles } from "./handles.js";
import { refreshVm } from "./reconcile.js";
import { assertCanDo } from "./state.js";

const HTTP_PROBE_TIMEOUT_MS = 300;

/**
 * What listens inside a running VM, from its guest agent (works without SSH), each TCP port
 * that answers HTTP from the host with a link. AGENT_* errors name the VM.
 */
export async function vmPorts(ctx: VmContext, ref: VmRecord): Promise<VmPorts> {
  const vm = await refreshVm(ctx, ref);
  assertCanDo("ssh", vm.name, vm.state);
  const agent = await requireAgent(ctx, vm);
  const [ports, handles] = await Promise.all([
    agent.ports(),
    readHandles(vmFiles(ctx.paths, vm.id).handles),
  ]);
  const views = await Promise.all(ports.map((p) => toView(vm, p, handles?.address)));
  views.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
  return { vm: vm.name, ports: views };
}

function reachableFromHost(p: AgentPort): boolean {
  return p.address === "0.0.0.0" || p.address === "::" || !/^(127\.|::1$)/.test(p.address);
}

async function toView(vm: VmRecord, p: AgentPort, address: string | undefined): Promise<PortView> {
  const view: PortView = {
    protocol: p.protocol,
    family: p.family,
    address: p.address,
    port: p.port,
    pid: p.pid,
    process: p.process,
    endpoint: `${vm.name}.vm:${p.port}`,
  };
  if (p.protocol === "tcp" && address !== undefined && reachableFromHost(p)) {
    if (await answersHttp(address, p.port)) view.url = `http://${vm.name}.vm:${p.port}/`;
  }
  return view;
}

/** True when something at host:port sends back an HTTP status line within a short time. */
function answersHttp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, method: "HEAD", path: "/", timeout: HTTP_PROBE_TIMEOUT_MS });
    req.on("response", (res) => {
      res.resume();
      resolve(true);
      req.destroy();
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.on("close", () => resolve(false));
    req.end();
  });
}
