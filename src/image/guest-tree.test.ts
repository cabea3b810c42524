import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { FSTAB, copyRootSkel, lockRootPassword, prepareGuestTree } from "./guest-tree.js";

async function fakeTree(t: TestContext): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "banger-tree-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, "etc/ssh"), { recursive: true });
  await mkdir(path.join(root, "root/.ssh"), { recursive: true, mode: 0o700 });
  for (const f of ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "sshd_config"]) {
    await writeFile(path.join(root, "etc/ssh", f), "x");
  }
  await writeFile(path.join(root, "etc/shadow"), "root:$y$hash:20000:0:99999:7:::\nbin:*:1::\n");
  await writeFile(path.join(root, "etc/machine-id"), "0123456789abcdef\n");
  await writeFile(path.join(root, "etc/hostname"), "buildhost\n", { mode: 0o755 });
  await writeFile(path.join(root, "root/.bashrc"), "PS1=x\n", { mode: 0o640 });
  return root;
}

test("prepareGuestTree applies every golden-image adjustment", async (t) => {
  const root = await fakeTree(t);
  await prepareGuestTree(root);

  assert.deepEqual(await readdir(path.join(root, "etc/ssh")), ["sshd_config"]);
  assert.equal(await readFile(path.join(root, "etc/fstab"), "utf8"), FSTAB);
  assert.match(FSTAB, /^\/dev\/vda \/ ext4 rw,relatime 0 1$/m);
  assert.match(FSTAB, /^\/dev\/vdb \/root ext4 defaults,nofail 0 2$/m);
  assert.match(await readFile(path.join(root, "etc/shadow"), "utf8"), /^root:\*:20000:/);
  assert.equal(await readFile(path.join(root, "etc/machine-id"), "utf8"), "");
  assert.equal(await readFile(path.join(root, "etc/hostname"), "utf8"), "debian\n");
  assert.equal((await stat(path.join(root, "etc/hostname"))).mode & 0o777, 0o644);

  const units = path.join(root, "etc/systemd/system");
  const wants = path.join(units, "multi-user.target.wants/systemd-networkd.service");
  assert.equal(await readlink(wants), "/lib/systemd/system/systemd-networkd.service");
  assert.equal(await readlink(path.join(units, "apt-daily.timer")), "/dev/null");

  const agent = await stat(path.join(root, "usr/local/bin/banger-agent"));
  assert.equal(agent.mode & 0o777, 0o755, "the guest agent is installed executable");
  const agentWants = path.join(units, "sysinit.target.wants/banger-agent.service");
  assert.equal(await readlink(agentWants), "/etc/systemd/system/banger-agent.service");
  assert.match(
    await readFile(path.join(units, "banger-agent.service"), "utf8"),
    /ExecStart=\/usr\/local\/bin\/banger-agent/,
  );

  await prepareGuestTree(root);
});

test("lockRootPassword leaves other accounts alone and needs a root entry", async (t) => {
  const root = await fakeTree(t);
  const shadow = path.join(root, "etc/shadow");
  await lockRootPassword(shadow);
  assert.equal(await readFile(shadow, "utf8"), "root:*:20000:0:99999:7:::\nbin:*:1::\n");

  await writeFile(shadow, "bin:*:1::\n");
  await assert.rejects(lockRootPassword(shadow), /has no root entry/);
});

test("copyRootSkel keeps modes of /root and its dotfiles", async (t) => {
  const root = await fakeTree(t);
  const dest = path.join(root, "skel");
  await copyRootSkel(root, dest);
  assert.equal((await stat(dest)).mode & 0o777, (await stat(path.join(root, "root"))).mode & 0o777);
  assert.equal((await stat(path.join(dest, ".bashrc"))).mode & 0o777, 0o640);
  assert.equal((await stat(path.join(dest, ".ssh"))).mode & 0o777, 0o700);
});
