import assert from "node:assert/strict";
import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import {
  editSshConfig,
  includeBlock,
  sshConfigText,
  withInclude,
  withoutInclude,
} from "./ssh-config-file.js";

const INCLUDE = "/var/lib/banger/ssh/config";
const USER_CONFIG = "Host work\n  HostName 192.0.2.7\n\n# no newline at the end\tok";

async function home(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), "banger-home-"));
}

test("the include goes first, and removing it restores the text byte for byte", () => {
  const installed = withInclude(USER_CONFIG, INCLUDE);
  assert.equal(installed, includeBlock(INCLUDE) + USER_CONFIG);
  assert.equal(withInclude(installed, INCLUDE), installed, "a second install changes nothing");
  assert.equal(withoutInclude(installed), USER_CONFIG);
  assert.equal(withoutInclude(USER_CONFIG), USER_CONFIG);
});

test("a stale block is replaced where it stands, not duplicated", () => {
  const text = `# mine\n${includeBlock("/old/config")}Host x\n`;
  const out = withInclude(text, INCLUDE);
  assert.equal(out, `# mine\n${includeBlock(INCLUDE)}Host x\n`);
  assert.equal(out.split("banger ssh-config >>>").length, 2);
});

test("install twice, then uninstall, leaves the file as it was", async () => {
  const dir = await home();
  const file = path.join(dir, ".ssh", "config");
  await editSshConfig(file, (t) => t); // no file, no edit: nothing created
  await assert.rejects(stat(file));
  await mkdir(path.dirname(file), { mode: 0o700 });
  await writeFile(file, USER_CONFIG, { mode: 0o640 });

  assert.equal((await editSshConfig(file, (t) => withInclude(t, INCLUDE))).changed, true);
  const once = await readFile(file, "utf8");
  assert.equal((await editSshConfig(file, (t) => withInclude(t, INCLUDE))).changed, false);
  assert.equal(await readFile(file, "utf8"), once);
  assert.equal((await stat(file)).mode & 0o777, 0o640, "the mode is kept");

  await editSshConfig(file, withoutInclude);
  assert.equal(await readFile(file, "utf8"), USER_CONFIG);
});

test("a missing config is created with mode 0600 in a 0700 directory", async () => {
  const dir = await home();
  const file = path.join(dir, ".ssh", "config");
  await editSshConfig(file, (t) => withInclude(t, INCLUDE));
  assert.equal(await readFile(file, "utf8"), includeBlock(INCLUDE));
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
  await editSshConfig(file, withoutInclude);
  assert.equal(await readFile(file, "utf8"), "");
});

test("uninstall without a config creates nothing", async () => {
  const file = path.join(await home(), ".ssh", "config");
  assert.equal((await editSshConfig(file, withoutInclude)).changed, false);
  await assert.rejects(stat(file));
});

test("a symlinked config: the target is edited and the link stays a link", async () => {
  const dir = await home();
  await mkdir(path.join(dir, "dotfiles"));
  await mkdir(path.join(dir, ".ssh"));
  const target = path.join(dir, "dotfiles", "ssh_config");
  const link = path.join(dir, ".ssh", "config");
  await writeFile(target, USER_CONFIG);
  await symlink("../dotfiles/ssh_config", link);

  const { path: edited } = await editSshConfig(link, (t) => withInclude(t, INCLUDE));
  assert.equal(edited, target);
  assert.ok((await lstat(link)).isSymbolicLink());
  assert.equal(await readlink(link), "../dotfiles/ssh_config");
  assert.equal(await readFile(target, "utf8"), includeBlock(INCLUDE) + USER_CONFIG);
  await editSshConfig(link, withoutInclude);
  assert.equal(await readFile(target, "utf8"), USER_CONFIG);
});

test("a dangling symlink: its target is created", async () => {
  const dir = await home();
  await mkdir(path.join(dir, ".ssh"));
  await symlink(path.join(dir, "elsewhere"), path.join(dir, ".ssh", "config"));
  await editSshConfig(path.join(dir, ".ssh", "config"), (t) => withInclude(t, INCLUDE));
  assert.equal(await readFile(path.join(dir, "elsewhere"), "utf8"), includeBlock(INCLUDE));
});

test("banger's ssh_config pins host keys strictly and reaches VMs through the CLI", () => {
  const text = sshConfigText({
    keyPath: "/s/ssh/id_ed25519",
    knownHostsPath: "/s/ssh/known_hosts",
    cli: ["env", "BANGER_STATE_DIR=/s", "/usr/bin/node", "/opt/banger/dist/cli/main.js"],
  });
  const cli = "env BANGER_STATE_DIR=/s /usr/bin/node /opt/banger/dist/cli/main.js";
  assert.match(text, /^Host \*\.vm$/m);
  assert.match(text, /^ {2}StrictHostKeyChecking yes$/m);
  assert.match(text, /^ {2}UserKnownHostsFile \/s\/ssh\/known_hosts$/m);
  assert.ok(text.includes(`  ProxyCommand ${cli} vm ssh-proxy %h\n`));
  assert.ok(text.includes(`  KnownHostsCommand ${cli} vm known-hosts %H\n`));
  for (const bad of ["/a b/main.js", "/a%h", "/a'b", "/a$HOME"]) {
    assert.throws(
      () => sshConfigText({ keyPath: "/k", knownHostsPath: "/h", cli: [bad] }),
      (e) => isBangerError(e, "INVALID_ARGUMENT"),
    );
  }
});
