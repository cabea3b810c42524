// What a VM looks like to a VMM driver, apart from the code that builds it: the machine spec,
// the handle of a running VMM, and the driver interface with its capability flags.

/** How the guest's CPU runs: hardware virtualization, or QEMU's software emulation. */
export type Accel = "kvm" | "tcg";

export interface DiskSpec {
  /** Unique among the VM's disks; letters, digits, `-` and `_`, starting with a letter. */
  id: string;
  path: string;
  format: "qcow2" | "raw";
  readOnly?: boolean;
}

/** Files a VMM writes or serves for one VM; every path absolute. */
export interface VmmFiles {
  /** The guest's serial console, truncated at each launch. */
  consoleLog: string;
  vmmPidFile: string;
  /** QMP for qemu, the REST API for Firecracker. */
  controlSocket: string;
  /** The VMM serves it; the guest agent's channel is on the other end. */
  agentSocket: string;
  /** The VMM process's own messages (not the guest's). */
  vmmLog: string;
}

export interface MachineSpec {
  vmId: string;
  /** A DNS label; shown as the VMM's guest name. */
  name: string;
  vcpus: number;
  memoryMib: number;
  kernelPath: string;
  initrdPath: string;
  cmdline: string;
  /** In order: the first is /dev/vda (root), the second /dev/vdb (work). */
  disks: DiskSpec[];
  nic: { tapName: string; mac: string };
  accel: Accel;
  files: VmmFiles;
}

/** A running VMM process. Momentary: re-check it with `isAlive`, never trust it. */
export interface VmmHandle {
  driver: string;
  pid: number;
  controlSocket: string;
  pidFile: string;
}

export interface DriverCapabilities {
  /** How the guest agent is reached: a virtio-serial port (qemu) or vsock (Firecracker). */
  agentChannel: "virtio-serial" | "vsock";
  diskFormats: ("qcow2" | "raw")[];
  /** Whether `requestPowerOff` exists as an ACPI power-button press. */
  gracefulPowerOff: boolean;
}

/** Role: start a VMM for a spec. */
export interface Launcher {
  /** Starts the VMM detached (own session, survives the daemon); resolves once it runs. */
  launch(spec: MachineSpec, opts?: { signal?: AbortSignal }): Promise<VmmHandle>;
}

/** Role: find and watch a VMM process. */
export interface ProcessTracker {
  /** Finds a running VMM again from its pid file + control socket; undefined if dead. */
  reattach(files: MachineSpec["files"]): Promise<VmmHandle | undefined>;
  isAlive(handle: VmmHandle): Promise<boolean>;
  waitForExit(handle: VmmHandle, timeoutMs: number): Promise<boolean>;
}

/** Role: stop a VMM, gracefully or not. */
export interface Stopper {
  /** ACPI power button (QMP `system_powerdown` on qemu). */
  requestPowerOff(handle: VmmHandle): Promise<void>;
  kill(handle: VmmHandle, signal?: NodeJS.Signals): Promise<void>;
}

export interface Driver extends Launcher, ProcessTracker, Stopper {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
}
