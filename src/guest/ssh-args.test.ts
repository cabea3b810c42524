import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { closeMasterArgs, sshArgs, type SshTarget } from "./ssh-args.js";

const target: SshTarget = {
  host: "172.16.0.2",
  alias: "01j9x3f7zq",
  keyPath: "/var/lib/banger/ssh/id_ed25519",
  knownHostsPath: "/var/lib/banger/ssh/known_hosts",
};

function optionValues(args: string[]): Map<string, string> {
  const values = new Map<string, string>();
  args.forEach((a, i) => {
    const next = args[i + 1];
    if (a === "-o" && next !== undefined) {
      const [name = "", ...rest] = next.split("=");
      values.set(name, rest.join("="));
    }
  });
  return values;
}

test("sshArgs pins banger's key and known_hosts under the VM alias", () => {
  const args = sshArgs(target);
  const o = optionValues(args);
  assert.equal(args[args.indexOf("-i") + 1], target.keyPath);
  assert.equal(o.get("IdentitiesOnly"), "yes");
  assert.equal(o.get("UserKnownHostsFile"), target.knownHostsPath);
  assert.equal(o.get("GlobalKnownHostsFile"), "/dev/null");
  assert.equal(o.get("StrictHostKeyChecking"), "yes");
  assert.equal(o.get("HostKeyAlias"), "01j9x3f7zq");
  assert.equal(o.get("LogLevel"), "ERROR");
  assert.match(o.get("ConnectTimeout") ?? "", /^[1-9][0-9]*$/);
  assert.match(o.get("ServerAliveInterval") ?? "", /^[1-9][0-9]*$/);
  assert.equal(args[args.indexOf("-l") + 1], "root");
  assert.ok(args.includes("-T"));
  assert.ok(!args.includes("-t"));
  assert.deepEqual(args.slice(-2), ["--", "172.16.0.2"]);
  assert.ok(!args.includes("-p"));
  const withPort = sshArgs({ ...target, port: 2222 });
  assert.equal(withPort[withPort.indexOf("-p") + 1], "2222");
});

test("sshArgs puts -t, extra options and the quoted command in place", () => {
  const args = sshArgs(
    { ...target, user: "dev" },
    { tty: true, command: ["sh", "-c", "exit 7"], extra: ["-L", "8080:localhost:80"] },
  );
  assert.ok(args.includes("-t"));
  assert.equal(args[args.indexOf("-l") + 1], "dev");
  const dashes = args.indexOf("--");
  assert.ok(args.indexOf("-L") < dashes && args.indexOf("-L") > args.indexOf("-o"));
  assert.deepEqual(args.slice(dashes), ["--", "172.16.0.2", "sh -c 'exit 7'"]);
});

test("sshArgs quotes a known_hosts path with spaces", () => {
  const args = sshArgs({
    ...target,
    keyPath: "/state 1/ssh/id_ed25519",
    knownHostsPath: "/state 1/ssh/known_hosts",
  });
  assert.equal(args[args.indexOf("-i") + 1], "/state 1/ssh/id_ed25519");
  assert.equal(optionValues(args).get("UserKnownHostsFile"), '"/state 1/ssh/known_hosts"');
});

test("sshArgs refuses values ssh would read as options, patterns or expansions", () => {
  const bad: Partial<SshTarget>[] = [
    { host: "-oProxyCommand=sh" },
    { host: "a b" },
    { host: "" },
    { user: "root -v" },
    { user: "-x" },
    { alias: "*" },
    { port: 0 },
    { port: 70000 },
    { port: 22.5 },
    { alias: "a,b" },
    { keyPath: "relative/key" },
    { keyPath: "/x/${HOME}/key" },
    { keyPath: "/x/%d/key" },
    { knownHostsPath: "/x/100%/known_hosts" },
    { knownHostsPath: '/x/"q"/known_hosts' },
  ];
  for (const change of bad) {
    assert.throws(
      () => sshArgs({ ...target, ...change }),
      (err) => isBangerError(err, "INVALID_ARGUMENT"),
      JSON.stringify(change),
    );
  }
});

test("sshArgs shares one connection only when asked, and only with a path that fits", () => {
  assert.equal(optionValues(sshArgs(target)).get("ControlMaster"), undefined);
  const mux = "/var/lib/banger/vms/0123456789abcdef/ssh.mux";
  const o = optionValues(sshArgs({ ...target, controlPath: mux }));
  assert.equal(o.get("ControlMaster"), "auto");
  assert.equal(o.get("ControlPath"), mux);
  assert.match(o.get("ControlPersist") ?? "", /^[1-9][0-9]*$/);
  // sun_path is 108 bytes and ssh adds a suffix while binding: a longer path goes without.
  const long = `/${"x".repeat(100)}/ssh.mux`;
  assert.equal(
    optionValues(sshArgs({ ...target, controlPath: long })).get("ControlPath"),
    undefined,
  );
  assert.deepEqual(closeMasterArgs(mux).slice(-4), ["-O", "exit", "--", "banger-vm"]);
  assert.throws(() => sshArgs({ ...target, controlPath: "/tmp/%h.mux" }), isBangerError);
});
