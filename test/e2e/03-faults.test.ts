import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import {
  banger,
  BRIDGE,
  cleanup,
  CLI,
  ENV,
  leaseOf,
  list,
  ok,
  show,
  STATE_DIR,
  uniqueName,
} from "./harness.js";

const names: string[] = [];
after(() => cleanup(...names));

test("a name that is not a DNS label is a usage error naming the rule", async () => {
  for (const bad of ["Web", "-web", "web-", "a_b", "x".repeat(64), "a.b"]) {
    const r = await banger(["vm", "create", "--no-start", "--name", bad]);
    assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /invalid VM name .*lowercase letters, digits and hyphens, at most 63/);
  }
});

test("sizes: units are accepted, and zero, garbage or over the limit are refused with the limit", async () => {
  const name = uniqueName("size");
  names.push(name);
  await ok(["vm", "create", "--no-start", "--name", name, "--memory", "1GiB", "--disk-size", "2G"]);
  const vm = JSON.parse(await ok(["vm", "show", name, "--json"])) as {
    memoryMib: number;
    diskSizeMib: number;
  };
  assert.equal(vm.memoryMib, 1024);
  assert.equal(vm.diskSizeMib, 2048);

  for (const bad of ["0", "lots", "99999G", "-5", "1.5X"]) {
    const r = await banger(["vm", "create", "--no-start", "--memory", bad]);
    assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /invalid --memory|not a size|must be between|argument missing|unknown option/,
    );
  }
  const r = await banger(["vm", "create", "--no-start", "--memory", "99999G"]);
  assert.match(r.stderr, /must be between 128M and 256G/);
});

test("a taken name and an unknown image are refused with a hint", async () => {
  const taken = names[0]!;
  const r1 = await banger(["vm", "create", "--no-start", "--name", taken]);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, new RegExp(`cannot create VM "${taken}": the name is taken`));

  const r2 = await banger(["vm", "create", "--no-start", "--image", "no-such-image"]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /no-such-image/);
  assert.match(r2.stderr, /hint: .*banger image list/);
});

test("vm create --help shows the resolved defaults", async () => {
  const r = await banger(["vm", "create", "--help"]);
  assert.equal(r.code, 0);
  const help = r.stdout.replace(/\s+/g, " "); // commander wraps to the terminal width
  assert.match(help, /--vcpu <n> virtual CPUs \(default: 1, from config\)/);
  assert.match(help, /--memory <size> [^(]*\(default: 512M, from config\)/);
  assert.match(help, /--image <image> [^(]*\(default: debian-bookworm, built-in\)/);
});

test(
  "a boot that times out leaves the VM in error with its console, and no tap or lease",
  { timeout: 300_000 },
  async () => {
    const name = uniqueName("slow");
    names.push(name);
    const r = await banger([
      "vm",
      "run",
      "--rm",
      "--boot-timeout",
      "4s",
      "--name",
      name,
      "--",
      "true",
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `VM "${name}" did not answer (SSH|the guest agent) within 4 s; last lines of its console:`,
      ),
    );
    assert.match(r.stderr, /hint: banger vm logs/);
    const vm = await show(name);
    assert.equal(vm.state, "error", "--rm keeps a VM whose boot failed");
    assert.match(vm.lastError ?? "", /did not answer (SSH|the guest agent)/);
    assert.equal(await leaseOf(vm.id), undefined);
    assert.ok((await ok(["vm", "logs", name])).length > 0);
    const r2 = await banger(["vm", "start", name]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal((await show(name)).state, "running", "a failed VM can be started again");
  },
);

test(
  "Ctrl-C during create leaves no VM, tap, lease or directory behind",
  { timeout: 300_000 },
  async () => {
    const name = uniqueName("intr");
    names.push(name);
    const dirsBefore = new Set(readdirSync(path.join(STATE_DIR, "vms")));
    const child = spawn(process.execPath, [CLI, "vm", "create", "--name", name], { env: ENV });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    // Interrupt while the guest boots: the VMM runs, the tap and lease exist.
    await Promise.race([
      new Promise<void>((resolve) => {
        child.stderr.setEncoding("utf8").on("data", (c: string) => {
          stderr += c;
          if (stderr.includes("Waiting for the guest agent")) resolve();
        });
      }),
      exited,
    ]);
    child.kill("SIGINT");
    const code = await exited;
    assert.equal(code, 130, stderr);

    // The daemon rolls back asynchronously once it sees the client go.
    let vms = await list();
    for (let i = 0; i < 40 && vms.some((v) => v.name === name); i++) {
      await new Promise((r) => setTimeout(r, 250));
      vms = await list();
    }
    assert.ok(!vms.some((v) => v.name === name), "no record is left");
    const newDirs = readdirSync(path.join(STATE_DIR, "vms")).filter((d) => !dirsBefore.has(d));
    assert.deepEqual(newDirs, [], "no VM directory is left");
    // Only this suite's bridge: other banger installations on the host have taps of their own.
    const taps = readdirSync(`/sys/class/net/${BRIDGE}/brif`);
    const live = new Set((await list()).map((v) => v.tap).filter(Boolean));
    assert.deepEqual(
      taps.filter((t) => !live.has(t)),
      [],
      "no stray tap is left",
    );
    const staging = path.join(STATE_DIR, "staging");
    assert.ok(!existsSync(staging) || readdirSync(staging).length === 0, "no staging dir is left");
  },
);

test("doctor fails the qemu row, with the package to install, when qemu is not on PATH", async () => {
  const r = await banger(["doctor"], { env: { ...ENV, PATH: "/nonexistent" } });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAIL\s+qemu\s+qemu-system-x86_64 not found/);
  assert.match(r.stdout, /fix: apt-get install qemu-system-x86/);
});
