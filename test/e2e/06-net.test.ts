// `.vm` DNS, NAT against an "outside" network namespace, vm set, and ssh <name>.vm, through the
// real CLI, daemon and guests. The namespace, veth and fake upstream resolver are the test's.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { mkdtemp, mkdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import dnsPacket from "dns-packet";
import {
  banger,
  BRIDGE,
  cleanup,
  daemonPid,
  DNS_PORT,
  ENV,
  inVm,
  ok,
  show,
  stopDaemon,
  uniqueName,
  UPSTREAM_PORT,
} from "./harness.js";

const TAG = (process.pid % 100000).toString(36);
const NS = `bgnet-${TAG}`;
const VETH_HOST = `bgvh${TAG}`;
const VETH_NS = `bgvn${TAG}`;
const OUTSIDE = "198.51.100.1";
const OUTSIDE_URL = `http://${OUTSIDE}:8000/`;
const FAKE_ANSWER = "192.0.2.1";

const a = uniqueName("neta");
const b = uniqueName("netb");
let listener: ChildProcess | undefined;
let upstream: dgram.Socket | undefined;
let forwardBefore = "0";

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function dig(args: string[]): string {
  return sh("dig", ["@127.0.0.1", "-p", String(DNS_PORT), "+time=2", "+tries=1", ...args]);
}

function reach(vm: string): Promise<{ code: number; stdout: string }> {
  return inVm(vm, ["curl", "-sS", "--max-time", "5", OUTSIDE_URL]);
}

async function waitForDaemonExit(): Promise<void> {
  const pid = daemonPid();
  stopDaemon();
  for (let i = 0; pid !== undefined && i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A resolver for names outside `.vm` that answers every A question with FAKE_ANSWER. */
async function startUpstream(): Promise<dgram.Socket> {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (msg, from) => {
    const q = dnsPacket.decode(msg);
    const name = q.questions?.[0]?.name ?? "";
    const reply = dnsPacket.encode({
      id: q.id,
      type: "response",
      flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED,
      questions: q.questions ?? [],
      answers: [{ type: "A", name, ttl: 60, data: FAKE_ANSWER }],
    });
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(UPSTREAM_PORT, "127.0.0.1", resolve));
  return socket;
}

function setUpOutside(): void {
  sh("ip", ["netns", "add", NS]);
  sh("ip", ["link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_NS]);
  sh("ip", ["link", "set", VETH_NS, "netns", NS]);
  sh("ip", ["addr", "add", "198.51.100.2/24", "dev", VETH_HOST]);
  sh("ip", ["link", "set", VETH_HOST, "up"]);
  sh("ip", ["-n", NS, "addr", "add", `${OUTSIDE}/24`, "dev", VETH_NS]);
  sh("ip", ["-n", NS, "link", "set", VETH_NS, "up"]);
  sh("ip", ["-n", NS, "link", "set", "lo", "up"]);
  const server = `require("http").createServer((q, s) => s.end("outside-ok")).listen(8000, "${OUTSIDE}")`;
  listener = spawn("ip", ["netns", "exec", NS, process.execPath, "-e", server], {
    stdio: "ignore",
  });
}

function tearDownOutside(): void {
  listener?.kill("SIGKILL");
  spawnSync("ip", ["link", "del", VETH_HOST], { stdio: "ignore" });
  spawnSync("ip", ["netns", "del", NS], { stdio: "ignore" });
}

before(async () => {
  forwardBefore = (await readFile("/proc/sys/net/ipv4/ip_forward", "utf8")).trim();
  upstream = await startUpstream();
  setUpOutside();
  await Promise.all([
    ok(["vm", "create", "--name", a, "--nat"]),
    ok(["vm", "create", "--name", b]),
  ]);
});

after(async () => {
  await cleanup(a, b);
  tearDownOutside();
  upstream?.close();
  await writeFile("/proc/sys/net/ipv4/ip_forward", `${forwardBefore}\n`);
});

test(
  "dig on the loopback port answers A, PTR, NXDOMAIN and REFUSED",
  { timeout: 60_000 },
  async () => {
    const address = (await show(a)).address;
    assert.ok(address);
    assert.equal(dig([`${a}.vm`, "+short"]).trim(), address);
    assert.equal(dig(["-x", address, "+short"]).trim(), `${a}.vm.`);
    assert.match(dig([`${a}-nope.vm`]), /status: NXDOMAIN/);
    assert.match(dig(["example.com"]), /status: REFUSED/);
    assert.match(sh("dig", ["@127.0.0.1", "-p", String(DNS_PORT), "+tcp", `${b}.vm`]), /NOERROR/);
  },
);

test(
  "a guest resolves another VM by name, and other names upstream",
  { timeout: 120_000 },
  async () => {
    const other = await show(a);
    const r = await inVm(b, ["getent", "hosts", `${a}.vm`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${other.address?.replace(/\./g, "\\.")}\\s+${a}\\.vm`));
    const outside = await inVm(b, ["getent", "hosts", "example.com"]);
    assert.match(outside.stdout, new RegExp(`^${FAKE_ANSWER.replace(/\./g, "\\.")}\\s`));
  },
);

test("only a VM with NAT reaches the outside", { timeout: 120_000 }, async () => {
  const withNat = await reach(a);
  assert.equal(withNat.stdout, "outside-ok");
  assert.notEqual((await reach(b)).code, 0, "a VM without NAT stays on the bridge");
  assert.equal((await readFile("/proc/sys/net/ipv4/ip_forward", "utf8")).trim(), "1");
});

test("vm set --nat and --no-nat take effect on running VMs", { timeout: 120_000 }, async () => {
  assert.match(await ok(["vm", "set", b, "--nat"]), /nat on/);
  assert.equal((await reach(b)).stdout, "outside-ok");
  assert.match(await ok(["vm", "set", a, "--no-nat"]), /nat off/);
  assert.notEqual((await reach(a)).code, 0, "--no-nat cuts a running VM");
  assert.equal((await show(a)).state, "running");
});

test("vm set --vcpu on a running VM is refused with the stop hint", async () => {
  const r = await banger(["vm", "set", a, "--vcpu", "2"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`cannot set VM "${a}": it is running`));
  assert.match(r.stderr, new RegExp(`banger vm stop ${a}`));
});

test("a restarted daemon restores the NAT rules", { timeout: 60_000 }, async () => {
  const address = (await show(b)).address;
  await waitForDaemonExit();
  sh("nft", ["delete", "chain", "ip", "banger", `postrouting_${BRIDGE}`]);
  await ok(["vm", "list"]);
  const chain = sh("nft", ["list", "chain", "ip", "banger", `postrouting_${BRIDGE}`]);
  assert.match(chain, new RegExp(`ip saddr ${address?.replace(/\./g, "\\.")} masquerade`));
  assert.equal((await reach(b)).stdout, "outside-ok");
});

test("ssh-config --install: plain ssh <name>.vm works, pinned", { timeout: 120_000 }, async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), "banger-home-"));
  const config = path.join(home, ".ssh", "config");
  const mine = "Host elsewhere\n  Port 2222\n# no final newline";
  await mkdir(path.dirname(config), { mode: 0o700 });
  await writeFile(config, mine, { mode: 0o600 });
  const env = { ...ENV, HOME: home };

  const written = (await banger(["ssh-config", "--install"], { env })).stdout.trim();
  const once = await readFile(config, "utf8");
  assert.ok(once.endsWith(mine) && once.includes(`Include ${written}`));
  assert.equal((await banger(["ssh-config", "--install"], { env })).code, 0);
  assert.equal(await readFile(config, "utf8"), once, "a second install changes nothing");

  // ssh reads the passwd home, not $HOME: point it at the edited file, as ~/.ssh/config.
  const ssh = spawnSync("ssh", ["-F", config, `${a}.vm`, "echo", "via-name-$(hostname)"], {
    encoding: "utf8",
    env,
    timeout: 60_000,
  });
  assert.equal(ssh.status, 0, ssh.stderr);
  assert.equal(ssh.stdout.trim(), `via-name-${a}`);
  assert.match(await readFile(written, "utf8"), /StrictHostKeyChecking yes/);

  await banger(["ssh-config", "--uninstall"], { env });
  assert.equal(await readFile(config, "utf8"), mine, "uninstall restores the file byte for byte");
});

test("vm delete drops the VM's DNS record and NAT rule", { timeout: 60_000 }, async () => {
  const address = (await show(b)).address;
  await ok(["vm", "delete", b]);
  assert.equal(dig([`${b}.vm`, "+short"]).trim(), "");
  const chain = sh("nft", ["list", "chain", "ip", "banger", `postrouting_${BRIDGE}`]);
  assert.doesNotMatch(chain, new RegExp(`${address?.replace(/\./g, "\\.")} `));
});

test(
  "a taken DNS port: the daemon still starts and doctor warns",
  { timeout: 60_000 },
  async () => {
    await waitForDaemonExit();
    const udp = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => udp.bind(DNS_PORT, "127.0.0.1", resolve));
    const tcp = net.createServer();
    await new Promise<void>((resolve) => tcp.listen(DNS_PORT, "127.0.0.1", resolve));
    try {
      await ok(["vm", "list"]);
      const rows = JSON.parse((await banger(["doctor", "--json"])).stdout) as {
        name: string;
        status: string;
        detail: string;
      }[];
      const row = rows.find((r) => r.name === "dns");
      assert.equal(row?.status, "WARN", JSON.stringify(row));
      assert.match(row?.detail ?? "", /taken by another program/);
      assert.equal(rows.find((r) => r.name === "daemon")?.status, "PASS");
    } finally {
      udp.close();
      tcp.close();
      // The next test file gets a daemon that owns the port again.
      await waitForDaemonExit();
    }
  },
);
