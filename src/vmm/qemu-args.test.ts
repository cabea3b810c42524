import assert from "node:assert/strict";
import { test } from "node:test";
import {
  accelKernelArgs,
  agentArgs,
  bootArgs,
  buildQemuArgs,
  consoleArgs,
  diskArgs,
  machineArgs,
  netArgs,
  optValue,
  processArgs,
  qmpArgs,
  resourceArgs,
} from "./qemu-args.js";
import type { MachineSpec } from "./types.js";

const files = {
  consoleLog: "/s/vms/a/console.log",
  vmmPidFile: "/s/vms/a/vmm.pid",
  controlSocket: "/s/vms/a/control.sock",
  agentSocket: "/s/vms/a/agent.sock",
  vmmLog: "/s/vms/a/vmm.log",
};

function spec(over: Partial<MachineSpec> = {}): MachineSpec {
  return {
    vmId: "a",
    name: "web-1",
    vcpus: 2,
    memoryMib: 1024,
    kernelPath: "/k/vmlinuz",
    initrdPath: "/s/vms/a/initrd.img",
    cmdline: "console=ttyS0 root=/dev/vda",
    disks: [
      { id: "root", path: "/s/vms/a/root.qcow2", format: "qcow2" },
      { id: "work", path: "/s/vms/a/work.ext4", format: "raw" },
    ],
    nic: { tapName: "bg-a", mac: "52:54:00:AB:cd:01" },
    accel: "tcg",
    files,
    ...over,
  };
}

/** The value following `flag`, for each occurrence. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? "<missing>"] : []));
}

test("optValue doubles commas so a path cannot inject options", () => {
  assert.equal(optValue("/a,b/c"), "/a,,b/c");
  assert.equal(optValue("/plain"), "/plain");
});

test("machineArgs: microvm with ACPI, host CPU under KVM, max CPU and the PIT under TCG", () => {
  assert.deepEqual(machineArgs("kvm"), [
    "-M",
    "microvm,acpi=on,pit=off,pic=off,rtc=on,isa-serial=on,x-option-roms=off",
    "-accel",
    "kvm",
    "-cpu",
    "host",
  ]);
  const tcg = machineArgs("tcg");
  assert.match(tcg[1] ?? "", /^microvm,acpi=on,pit=on,pic=off,/);
  assert.deepEqual(tcg.slice(2), ["-accel", "tcg", "-cpu", "max"]);
});

test("resourceArgs: vCPUs and memory in MiB, refusing nonsense", () => {
  assert.deepEqual(resourceArgs(2, 1024), ["-smp", "2", "-m", "1024M"]);
  assert.throws(() => resourceArgs(0, 1024), /vcpus/);
  assert.throws(() => resourceArgs(1, 1.5), /memoryMib/);
  assert.throws(() => resourceArgs(1, 16), /memoryMib/);
});

test("accelKernelArgs: TSC rate only under TCG and only when known", () => {
  assert.deepEqual(accelKernelArgs("tcg", { tscKhz: 2596138.4 }), [
    "tsc_early_khz=2596138",
    "tsc=reliable",
  ]);
  assert.deepEqual(accelKernelArgs("tcg", {}), []);
  assert.deepEqual(accelKernelArgs("kvm", { tscKhz: 2596138 }), []);
});

test("bootArgs: kernel, initrd, and the cmdline with accelerator quirks appended", () => {
  assert.deepEqual(bootArgs(spec(), { tscKhz: 3000000 }), [
    "-kernel",
    "/k/vmlinuz",
    "-initrd",
    "/s/vms/a/initrd.img",
    "-append",
    "console=ttyS0 root=/dev/vda tsc_early_khz=3000000 tsc=reliable",
  ]);
  assert.equal(bootArgs(spec({ accel: "kvm" }), { tscKhz: 1 })[5], "console=ttyS0 root=/dev/vda");
});

test("diskArgs: a drive without a bus plus a virtio-mmio block device", () => {
  assert.deepEqual(diskArgs({ id: "root", path: "/x/r,oot.qcow2", format: "qcow2" }), [
    "-drive",
    "id=root,file=/x/r,,oot.qcow2,format=qcow2,if=none,discard=unmap",
    "-device",
    "virtio-blk-device,drive=root",
  ]);
  const ro = diskArgs({ id: "base", path: "/x/b.raw", format: "raw", readOnly: true });
  assert.match(ro[1] ?? "", /,readonly=on$/);
  assert.throws(() => diskArgs({ id: "a,b", path: "/x", format: "raw" }), /disk id/);
  assert.throws(() => diskArgs({ id: "1st", path: "/x", format: "raw" }), /disk id/);
});

test("netArgs: tap without scripts and a virtio-mmio NIC with a lower-case MAC", () => {
  assert.deepEqual(netArgs({ tapName: "bg-a", mac: "52:54:00:AB:CD:01" }), [
    "-netdev",
    "tap,id=net0,ifname=bg-a,script=no,downscript=no",
    "-device",
    "virtio-net-device,netdev=net0,mac=52:54:00:ab:cd:01",
  ]);
  assert.throws(() => netArgs({ tapName: "x,script=/evil", mac: "52:54:00:00:00:01" }), /tap/);
  assert.throws(
    () => netArgs({ tapName: "a-name-longer-than-15", mac: "52:54:00:00:00:01" }),
    /tap/,
  );
  assert.throws(() => netArgs({ tapName: "bg-a", mac: "52:54:00:00:00" }), /MAC/);
});

test("consoleArgs: ttyS0 into a file", () => {
  assert.deepEqual(consoleArgs("/v/console.log"), [
    "-chardev",
    "file,id=console,path=/v/console.log",
    "-serial",
    "chardev:console",
  ]);
});

test("qmpArgs: a QMP monitor on a listening unix socket that does not wait", () => {
  assert.deepEqual(qmpArgs("/v/c,s.sock"), [
    "-chardev",
    "socket,id=qmp,path=/v/c,,s.sock,server=on,wait=off",
    "-mon",
    "chardev=qmp,mode=control",
  ]);
});

test("agentArgs: a virtio-serial port named org.banger.agent on a unix socket", () => {
  assert.deepEqual(agentArgs("/v/agent.sock"), [
    "-chardev",
    "socket,id=agent,path=/v/agent.sock,server=on,wait=off",
    "-device",
    "virtio-serial-device",
    "-device",
    "virtserialport,chardev=agent,name=org.banger.agent",
  ]);
});

test("processArgs: no defaults, no display, no reboot, pid file, log, daemonize last", () => {
  const args = processArgs("web-1", files);
  assert.deepEqual(values(args, "-name"), ["guest=web-1"]);
  assert.deepEqual(values(args, "-pidfile"), [files.vmmPidFile]);
  assert.deepEqual(values(args, "-D"), [files.vmmLog]);
  assert.deepEqual(values(args, "-display"), ["none"]);
  for (const flag of ["-nodefaults", "-no-user-config", "-no-reboot"]) {
    assert.ok(args.includes(flag), flag);
  }
  assert.equal(args.at(-1), "-daemonize");
});

test("buildQemuArgs: every device once, disks in spec order, deterministic", () => {
  const args = buildQemuArgs(spec(), { tscKhz: 2000000 });
  assert.deepEqual(args, buildQemuArgs(spec(), { tscKhz: 2000000 }));
  assert.deepEqual(values(args, "-device"), [
    "virtio-blk-device,drive=root",
    "virtio-blk-device,drive=work",
    "virtio-net-device,netdev=net0,mac=52:54:00:ab:cd:01",
    "virtio-serial-device",
    "virtserialport,chardev=agent,name=org.banger.agent",
  ]);
  assert.deepEqual(
    values(args, "-drive").map((d) => d.split(",")[0]),
    ["id=root", "id=work"],
  );
  assert.equal(values(args, "-chardev").length, 3);
  assert.deepEqual(values(args, "-initrd"), [spec().initrdPath]);
  assert.equal(args.filter((a) => a === "-daemonize").length, 1);
});

test("buildQemuArgs: no TSC facts means the cmdline is passed through untouched", () => {
  const args = buildQemuArgs(spec());
  assert.deepEqual(values(args, "-append"), ["console=ttyS0 root=/dev/vda"]);
});
