import type { VmView } from "../api/index.js";
import { vmFiles } from "../paths/index.js";
import type { VmRecord } from "../store/index.js";
import type { VmContext } from "./context.js";
import { readHandles } from "./handles.js";

/** The API view of a record, with the momentary facts of a running VM. */
export async function viewVm(ctx: VmContext, vm: VmRecord): Promise<VmView> {
  const files = vmFiles(ctx.paths, vm.id);
  const view: VmView = {
    id: vm.id,
    name: vm.name,
    state: vm.state,
    image: vm.image,
    kernel: vm.kernel,
    vcpus: vm.vcpus,
    memoryMib: vm.memoryMib,
    diskSizeMib: vm.diskSizeMib,
    createdAt: vm.createdAt,
    consoleLog: files.consoleLog,
    nat: vm.nat === true,
  };
  if (vm.lastError !== null) view.lastError = vm.lastError;
  if (vm.workspace) view.workspace = vm.workspace;
  if (vm.state === "running" || vm.state === "starting" || vm.state === "stopping") {
    const handles = await readHandles(files.handles);
    if (handles) {
      view.address = handles.address;
      view.pid = handles.vmm.pid;
      view.tap = handles.tap;
      view.accel = handles.accel;
    }
  }
  return view;
}
