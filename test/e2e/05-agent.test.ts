import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { banger, cleanup, inVm, ok, show, STATE_DIR, uniqueName } from "./harness.js";

const names: string[] = [];
const noAgentImage = uniqueName("noagent");
const noAgentFile = path.join(path.dirname(STATE_DIR), `${noAgentImage}.ext4`);
after(async () => {
  await cleanup(...names);
  await banger(["image", "delete", noAgentImage]);
  rmSync(noAgentFile, { force: true });
});

interface PortsJson {
  vm: string;
  ports: { protocol: string; port: number; process: string | null; endpoint: string }[];
}

async function ports(name: string): Promise<PortsJson["ports"]> {
  const out = JSON.parse(await ok(["vm", "ports", name, "--json"])) as PortsJson[];
  return out[0]!.ports;
}

test(
  "a VM is running once its agent answers, and vm run shows both moments",
  { timeout: 300_000 },
  async () => {
    const name = uniqueName("agent");
    names.push(name);
    const r = await banger(["vm", "run", "--name", name, "--", "true"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Waiting for the guest agent: done in/);
    assert.match(r.stderr, /Waiting for SSH on [\d.]+: done in/);
    const vm = await show(name);
    assert.equal(vm.state, "running");
    const shown = await ok(["vm", "show", name]);
    assert.match(shown, /agent: +\S+, up \d+ s, systemd (running|starting|degraded)/);
  },
);

test(
  "a server started in the guest appears in vm ports and disappears when it stops",
  { timeout: 120_000 },
  async () => {
    const name = names[0]!;
    const start = await inVm(name, [
      "systemd-run",
      "--unit=banger-e2e-web",
      "/usr/bin/systemd-socket-activate",
      "-l",
      "8080",
      "/bin/cat",
    ]);
    assert.equal(start.code, 0, start.stderr);
    let listed = await ports(name);
    for (let i = 0; i < 20 && !listed.some((p) => p.port === 8080); i++) {
      await new Promise((r) => setTimeout(r, 250));
      listed = await ports(name);
    }
    const web = listed.find((p) => p.port === 8080 && p.protocol === "tcp");
    assert.ok(web, JSON.stringify(listed));
    assert.equal(web.process, "systemd-socket-");
    assert.equal(web.endpoint, `${name}.vm:8080`);

    await inVm(name, ["systemctl", "stop", "banger-e2e-web"]);
    assert.ok(!(await ports(name)).some((p) => p.port === 8080));
  },
);

test("vm stats reports memory within the VM's size", { timeout: 60_000 }, async () => {
  const name = names[0]!;
  const s = JSON.parse(await ok(["vm", "stats", name, "--json"])) as {
    guest: { memory: { totalBytes: number }; filesystems: { path: string }[] };
    host: { rssBytes: number; disks: { name: string; allocatedBytes: number }[] };
  };
  const size = 512 * 1024 * 1024; // the suite's default memory
  assert.ok(s.guest.memory.totalBytes > size / 2 && s.guest.memory.totalBytes <= size);
  assert.deepEqual(s.guest.filesystems.map((f) => f.path).sort(), ["/", "/root"]);
  assert.ok(s.host.rssBytes > 0);
  assert.deepEqual(
    s.host.disks.map((d) => d.name),
    ["root", "work"],
  );
});

test(
  "vm ports works and vm stop shuts down cleanly with sshd stopped",
  { timeout: 180_000 },
  async () => {
    const name = names[0]!;
    const stopSsh = await inVm(name, ["systemctl", "stop", "ssh.service", "ssh.socket"]);
    assert.equal(stopSsh.code, 0, stopSsh.stderr);
    assert.ok(!(await ports(name)).some((p) => p.port === 22), "sshd no longer listens");

    const r = await banger(["vm", "stop", name]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /killing it/, "the guest powered off by itself");
    const vm = await show(name);
    assert.equal(vm.state, "stopped");
    const consoleLog = readFileSync(path.join(STATE_DIR, "vms", vm.id, "console.log"), "utf8");
    assert.match(consoleLog, /reboot: Power down/);
  },
);

test(
  "a dead agent times out with the VM named, and a restarted one is picked up",
  { timeout: 300_000 },
  async () => {
    const name = names[0]!;
    await ok(["vm", "start", name]);
    await inVm(name, ["systemctl", "stop", "banger-agent"]);
    const started = Date.now();
    const r = await banger(["vm", "ports", name]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`guest agent of VM "${name}"`));
    assert.ok(Date.now() - started < 10_000, "the call is bounded");

    await inVm(name, ["systemctl", "start", "banger-agent"]);
    let again = await banger(["vm", "ports", name]);
    for (let i = 0; i < 10 && again.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
      again = await banger(["vm", "ports", name]);
    }
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /sshd/);
  },
);

test(
  "an image without the agent: vm ports names VM and image, readiness falls back to SSH",
  { timeout: 300_000 },
  async () => {
    // A real image, with the agent removed from a copy of its ext4 file.
    const base = path.join(STATE_DIR, "images", "debian-bookworm", "rootfs.ext4");
    copyFileSync(base, noAgentFile);
    execFileSync("chmod", ["u+w", noAgentFile]);
    execFileSync("debugfs", ["-w", "-R", "rm /usr/local/bin/banger-agent", noAgentFile], {
      stdio: "ignore",
    });
    const reg = await ok(["image", "register", "--name", noAgentImage, "--rootfs", noAgentFile]);
    assert.match(reg, /no guest agent/);

    const name = uniqueName("plain");
    names.push(name);
    const r = await banger(["vm", "run", "-d", "--name", name, "--image", noAgentImage]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`image "${noAgentImage}" has no guest agent: waiting for SSH instead`),
    );
    assert.match(r.stderr, /Waiting for SSH on/);

    const p = await banger(["vm", "ports", name]);
    assert.equal(p.code, 1);
    assert.match(
      p.stderr,
      new RegExp(`VM "${name}" has no guest agent: its image "${noAgentImage}"`),
    );

    const d = await banger(["image", "delete", noAgentImage]);
    assert.equal(d.code, 1);
    assert.match(d.stderr, new RegExp(`used by VM "${name}"`));
  },
);
