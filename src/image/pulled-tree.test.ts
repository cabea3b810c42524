import assert from "node:assert/strict";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { FIRST_BOOT_SCRIPT, FIRST_BOOT_UNIT } from "./first-boot.js";
import { adaptPulledTree, inspectTree } from "./pulled-tree.js";

async function tree(t: TestContext, files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "banger-pulled-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
  return root;
}

const DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12"\nID=debian\n';

test("a tree with systemd and sshd is adjusted and needs no first boot", async (t) => {
  const root = await tree(t, {
    "usr/lib/systemd/systemd": "",
    "usr/sbin/sshd": "",
    "etc/ssh/ssh_host_rsa_key": "secret",
    "etc/shadow": "root:$y$x:1::::::\n",
    "etc/machine-id": "abc\n",
  });
  const result = await adaptPulledTree(root);
  assert.deepEqual(result, { hasSystemd: true, hasSshd: true, needsNat: false });
  await assert.rejects(lstat(path.join(root, "etc/ssh/ssh_host_rsa_key")), /ENOENT/);
  assert.match(await readFile(path.join(root, "etc/shadow"), "utf8"), /^root:\*:1:/);
  assert.equal(await readFile(path.join(root, "etc/machine-id"), "utf8"), "");
  assert.match(await readFile(path.join(root, "etc/fstab"), "utf8"), /^\/dev\/vda \/ ext4/m);
  await lstat(path.join(root, "usr/local/bin/banger-agent"));
  await assert.rejects(lstat(path.join(root, FIRST_BOOT_SCRIPT)), /ENOENT/);
});

test("a bare tree (no etc/ssh, no shadow) is adjusted without failing", async (t) => {
  const root = await tree(t, { "lib/systemd/systemd": "", "sbin/sshd": "" });
  const result = await adaptPulledTree(root);
  assert.equal(result.needsNat, false);
  await lstat(path.join(root, "etc/fstab"));
});

test("without systemd the first-boot script becomes /sbin/init, the old init kept", async (t) => {
  const root = await tree(t, { "usr/lib/os-release": DEBIAN, "usr/sbin/init": "old" });
  await symlink("usr/sbin", path.join(root, "sbin"));
  const result = await adaptPulledTree(root);
  assert.deepEqual(result, { hasSystemd: false, hasSshd: false, needsNat: true });
  assert.equal(await readlink(path.join(root, "usr/sbin/init")), FIRST_BOOT_SCRIPT);
  assert.equal(await readFile(path.join(root, "usr/sbin/init.banger-orig"), "utf8"), "old");
  const script = await readFile(path.join(root, FIRST_BOOT_SCRIPT), "utf8");
  assert.match(script, /apt-get install -y --no-install-recommends systemd .*openssh-server/);
  assert.equal((await lstat(path.join(root, FIRST_BOOT_SCRIPT))).mode & 0o777, 0o755);
  await lstat(path.join(root, "usr/lib/banger/busybox"));
});

test("with systemd but no sshd a first-boot unit is enabled", async (t) => {
  const root = await tree(t, {
    "usr/lib/systemd/systemd": "",
    "etc/os-release": 'ID=rocky\nID_LIKE="rhel centos fedora"\n',
  });
  const result = await adaptPulledTree(root);
  assert.deepEqual(result, { hasSystemd: true, hasSshd: false, needsNat: true });
  const link = `etc/systemd/system/multi-user.target.wants/${FIRST_BOOT_UNIT}`;
  assert.equal(await readlink(path.join(root, link)), `/etc/systemd/system/${FIRST_BOOT_UNIT}`);
  assert.match(await readFile(path.join(root, FIRST_BOOT_SCRIPT), "utf8"), /dnf install -y/);
});

test("an unknown distribution without sshd is refused, naming its ID", async (t) => {
  const root = await tree(t, { "etc/os-release": "ID=plan9\n" });
  await assert.rejects(adaptPulledTree(root), (err: Error & { code?: string }) => {
    assert.equal(err.code, "IMAGE_UNSUPPORTED");
    assert.match(err.message, /ID plan9/);
    return true;
  });
});

test("a symlinked /etc is refused before anything is written through it", async (t) => {
  const outside = await mkdtemp(path.join(tmpdir(), "banger-outside-"));
  t.after(() => rm(outside, { recursive: true, force: true }));
  await chmod(outside, 0o755);
  const root = await tree(t, { "usr/sbin/sshd": "" });
  await symlink(outside, path.join(root, "etc"));
  await assert.rejects(adaptPulledTree(root), /"\/etc" is a symlink/);
  await assert.rejects(lstat(path.join(outside, "fstab")), /ENOENT/);
});

test("inspectTree does not follow a symlinked directory to find systemd", async (t) => {
  const root = await tree(t, { "elsewhere/systemd/systemd": "" });
  await mkdir(path.join(root, "usr"));
  await symlink(path.join(root, "elsewhere"), path.join(root, "usr/lib"));
  assert.deepEqual(await inspectTree(root), { hasSystemd: false, hasSshd: false });
});
