// Durable state in SQLite: VM records and address leases, with versioned migrations.
// Momentary facts (pids, taps) are not stored here; see the VM's handles file.
export { Store, type VmRecord, type VmState, type WorkspaceRecord } from "./store.js";
