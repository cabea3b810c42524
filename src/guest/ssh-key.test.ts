import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, stat, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { run } from "../host/index.js";
import { resolvePaths } from "../paths/index.js";
import { ensureSshKey, generateHostKey } from "./ssh-key.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "banger-ssh-key-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("ensureSshKey makes one ed25519 key, 0600, and returns it on every call", async () => {
  const paths = resolvePaths({ BANGER_STATE_DIR: path.join(dir, "state") });
  const results = await Promise.all([ensureSshKey(paths), ensureSshKey(paths)]);
  const again = await ensureSshKey(paths);

  assert.equal(again.privateKeyPath, paths.sshKeyPath);
  assert.match(again.publicKey, /^ssh-ed25519 [A-Za-z0-9+/]+=* banger$/);
  for (const r of results) assert.equal(r.publicKey, again.publicKey);
  assert.equal((await stat(paths.sshKeyPath)).mode & 0o777, 0o600);

  const derived = await run("ssh-keygen", ["-y", "-f", paths.sshKeyPath]);
  assert.equal(
    derived.stdout.split(" ").slice(0, 2).join(" "),
    again.publicKey.split(" ").slice(0, 2).join(" "),
  );
});

test("ensureSshKey repairs a lost .pub and loose permissions instead of replacing the key", async () => {
  const paths = resolvePaths({ BANGER_STATE_DIR: path.join(dir, "repair") });
  const first = await ensureSshKey(paths);
  await unlink(`${paths.sshKeyPath}.pub`);
  await chmod(paths.sshKeyPath, 0o644);

  const second = await ensureSshKey(paths);
  assert.equal(second.publicKey.split(" ")[1], first.publicKey.split(" ")[1]);
  assert.equal((await stat(paths.sshKeyPath)).mode & 0o777, 0o600);
  assert.match(await readFile(`${paths.sshKeyPath}.pub`, "utf8"), /^ssh-ed25519 /);
});

test("generateHostKey is idempotent and leaves no temporary files", async () => {
  const keyPath = path.join(dir, "vms", "vm1", "ssh_host_ed25519_key");
  const a = await generateHostKey(keyPath);
  const b = await generateHostKey(keyPath);
  assert.equal(a.publicKey, b.publicKey);
  assert.match(a.publicKey, /^ssh-ed25519 /);

  const other = await generateHostKey(path.join(dir, "vms", "vm2", "ssh_host_ed25519_key"));
  assert.notEqual(other.publicKey, a.publicKey);
  const { stdout } = await run("ls", ["-A", path.dirname(keyPath)]);
  assert.deepEqual(stdout.trim().split("\n"), ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]);
});
