// The qemu command line for a MachineSpec, one small pure function per device. Values are
// escaped for qemu's option syntax (a comma inside a value is written twice).
import type { Accel, DiskSpec, MachineSpec, VmmFiles } from "./types.js";

/** Facts about the host that shape the command line but are not part of the VM's spec. */
export interface QemuHostFacts {
  /** The host TSC rate in kHz; under TCG the guest's TSC runs at exactly this rate. */
  tscKhz?: number;
}

/** The chardev / device ids the driver and the guest rely on. */
export const QEMU_IDS = { qmp: "qmp", console: "console", agent: "agent", net: "net0" } as const;

/** The virtio-serial port name the guest agent opens (`/dev/virtio-ports/<name>`). */
export const AGENT_PORT_NAME = "org.banger.agent";

const QEMU_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const TAP_PATTERN = /^[A-Za-z0-9_.-]{1,15}$/;

/** A value inside a qemu `-opt key=value,...` list. */
export function optValue(value: string): string {
  return value.replaceAll(",", ",,");
}

/**
 * microvm with ACPI, so the guest finds its virtio-mmio devices and the power button (GED).
 * Under KVM the legacy PIT and PIC are dropped (kvmclock and the LAPIC suffice); under TCG
 * the PIT stays because the guest kernel falls back to it when TSC calibration fails.
 * The RTC stays in both: without it the guest's clock starts in 1970.
 */
export function machineArgs(accel: Accel): string[] {
  const legacy = accel === "kvm" ? "pit=off,pic=off" : "pit=on,pic=off";
  return [
    "-M",
    `microvm,acpi=on,${legacy},rtc=on,isa-serial=on,x-option-roms=off`,
    "-accel",
    accel,
    "-cpu",
    accel === "kvm" ? "host" : "max",
  ];
}

export function resourceArgs(vcpus: number, memoryMib: number): string[] {
  if (!Number.isInteger(vcpus) || vcpus < 1) throw new Error(`vcpus must be >= 1, got ${vcpus}`);
  if (!Number.isInteger(memoryMib) || memoryMib < 64) {
    throw new Error(`memoryMib must be an integer >= 64, got ${memoryMib}`);
  }
  return ["-smp", String(vcpus), "-m", `${memoryMib}M`];
}

/**
 * Kernel arguments the accelerator needs. Under TCG the guest cannot calibrate its TSC
 * reliably (PIT polling through emulated port I/O jitters with host load, and microvm has no
 * HPET or PM timer), and the jiffies-based watchdog then marks the TSC unstable and the boot
 * stalls. The guest's TSC is the host's TSC under TCG, so telling the guest its rate is exact.
 */
export function accelKernelArgs(accel: Accel, host: QemuHostFacts): string[] {
  if (accel !== "tcg" || host.tscKhz === undefined) return [];
  return [`tsc_early_khz=${Math.round(host.tscKhz)}`, "tsc=reliable"];
}

export function bootArgs(spec: MachineSpec, host: QemuHostFacts): string[] {
  const cmdline = [spec.cmdline.trim(), ...accelKernelArgs(spec.accel, host)].filter(Boolean);
  return ["-kernel", spec.kernelPath, "-initrd", spec.initrdPath, "-append", cmdline.join(" ")];
}

export function diskArgs(disk: DiskSpec): string[] {
  if (!QEMU_ID_PATTERN.test(disk.id)) throw new Error(`invalid disk id ${JSON.stringify(disk.id)}`);
  const drive = [
    `id=${disk.id}`,
    `file=${optValue(disk.path)}`,
    `format=${disk.format}`,
    "if=none",
    "discard=unmap",
    ...(disk.readOnly === true ? ["readonly=on"] : []),
  ];
  return ["-drive", drive.join(","), "-device", `virtio-blk-device,drive=${disk.id}`];
}

export function netArgs(nic: MachineSpec["nic"]): string[] {
  if (!TAP_PATTERN.test(nic.tapName)) {
    throw new Error(`invalid tap name ${JSON.stringify(nic.tapName)}`);
  }
  if (!MAC_PATTERN.test(nic.mac)) throw new Error(`invalid MAC ${JSON.stringify(nic.mac)}`);
  const id = QEMU_IDS.net;
  return [
    "-netdev",
    `tap,id=${id},ifname=${nic.tapName},script=no,downscript=no`,
    "-device",
    `virtio-net-device,netdev=${id},mac=${nic.mac.toLowerCase()}`,
  ];
}

/** The serial console (ttyS0) into a file, truncated at each launch. */
export function consoleArgs(consoleLog: string): string[] {
  const id = QEMU_IDS.console;
  return ["-chardev", `file,id=${id},path=${optValue(consoleLog)}`, "-serial", `chardev:${id}`];
}

export function qmpArgs(controlSocket: string): string[] {
  const id = QEMU_IDS.qmp;
  return [
    "-chardev",
    `socket,id=${id},path=${optValue(controlSocket)},server=on,wait=off`,
    "-mon",
    `chardev=${id},mode=control`,
  ];
}

export function agentArgs(agentSocket: string): string[] {
  const id = QEMU_IDS.agent;
  return [
    "-chardev",
    `socket,id=${id},path=${optValue(agentSocket)},server=on,wait=off`,
    "-device",
    "virtio-serial-device",
    "-device",
    `virtserialport,chardev=${id},name=${AGENT_PORT_NAME}`,
  ];
}

/**
 * No default devices, no config files, no display, exit instead of rebooting, and detach:
 * the parent exits once the VM runs, the VM lives on in its own session.
 */
export function processArgs(name: string, files: VmmFiles): string[] {
  return [
    "-name",
    `guest=${optValue(name)}`,
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-no-reboot",
    "-pidfile",
    files.vmmPidFile,
    "-D",
    files.vmmLog,
    "-daemonize",
  ];
}

/** The full argument list (without the binary) for `spec`. Pure; throws on malformed specs. */
export function buildQemuArgs(spec: MachineSpec, host: QemuHostFacts = {}): string[] {
  return [
    ...machineArgs(spec.accel),
    ...resourceArgs(spec.vcpus, spec.memoryMib),
    ...bootArgs(spec, host),
    ...spec.disks.flatMap(diskArgs),
    ...netArgs(spec.nic),
    ...consoleArgs(spec.files.consoleLog),
    ...qmpArgs(spec.files.controlSocket),
    ...agentArgs(spec.files.agentSocket),
    ...processArgs(spec.name, spec.files),
  ];
}
