import { readFile, stat } from "node:fs/promises";
import type { VmStats } from "../api/index.js";
import { BangerError } from "../errors/index.js";
import { vmFiles } from "../paths/index.js";
import type { VmRecord } from "../store/index.js";
import { requireAgent } from "./agent.js";
import type { VmContext } from "./context.js";
import { readHandles } from "./handles.js";
import { refreshVm } from "./reconcile.js";
import { assertCanDo } from "./state.js";

// Linux reports process CPU times in clock ticks of 1/100 s on every architecture banger runs on.
const CLOCK_TICKS_PER_SECOND = 100;

/** The guest's view (from its agent) and the host's view of a running VM. */
export async function vmStats(ctx: VmContext, ref: VmRecord): Promise<VmStats> {
  const vm = await refreshVm(ctx, ref);
  assertCanDo("ssh", vm.name, vm.state);
  const files = vmFiles(ctx.paths, vm.id);
  const handles = await readHandles(files.handles);
  if (!handles) throw new BangerError("VM_INVALID_STATE", `VM "${vm.name}" has no VMM process`);
  const agent = await requireAgent(ctx, vm);
  const [guest, proc, disks] = await Promise.all([
    agent.stats(),
    processFigures(handles.vmm.pid),
    Promise.all(
      [
        ["root", files.rootOverlay],
        ["work", files.workDisk],
      ].map(async ([name, path]) => {
        const s = await stat(path!);
        return { name: name!, path: path!, apparentBytes: s.size, allocatedBytes: s.blocks * 512 };
      }),
    ),
  ]);
  return { vm: vm.name, guest, host: { pid: handles.vmm.pid, ...proc, disks } };
}

async function processFigures(pid: number): Promise<{ cpuSeconds: number; rssBytes: number }> {
  const [statText, status] = await Promise.all([
    readFile(`/proc/${pid}/stat`, "utf8"),
    readFile(`/proc/${pid}/status`, "utf8"),
  ]);
  // The command name in field 2 may hold spaces and parentheses: count from the last ")".
  const fields = statText.slice(statText.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssKib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, rssBytes: rssKib * 1024 };
}
