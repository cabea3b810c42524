// VM lifecycle: create, start, stop, kill, delete and reconcile, built from the vmm, net,
// image, kernel, guest and store modules. The daemon is its only caller.
export { createVmContext, type VmContext } from "./context.js";
export { createVm, resolveSpec, type CreateOptions } from "./create.js";
export { startVm, stopVm, killVm, restartVm, type OpOptions } from "./lifecycle.js";
export { deleteVm, prunable } from "./delete.js";
export { refreshVm, reconcileAll } from "./reconcile.js";
export { findVm } from "./find.js";
export { viewVm } from "./view.js";
export { sshTarget, consoleTail } from "./runtime.js";
export { validateName, generateName } from "./names.js";
export { canDo, assertCanDo, type VmAction } from "./state.js";
export { readHandles } from "./handles.js";
export { vmPorts } from "./ports.js";
export { vmStats } from "./stats.js";
export { checkHealth, imageHasAgent } from "./agent.js";
export { setVm } from "./set.js";
export { natAddresses, syncNat } from "./nat.js";
export { planWorkspace, prepareVmWorkspace, exportVmWorkspace } from "./workspace.js";
