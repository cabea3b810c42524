// Private: turning a freshly bootstrapped Debian tree into banger's golden guest, from the
// host side with plain file writes (nothing runs inside the tree).
import {
  chmod,
  copyFile,
  cp,
  mkdir,
  readFile,
  readdir,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { BangerError, isErrno } from "../errors/index.js";
import { AGENT_GUEST_PATH, AGENT_UNIT_NAME, agentFiles } from "../guest/index.js";
import { MASKED_UNITS, NETWORKD_LINKS, maskUnits, writeUnitLinks } from "./systemd-units.js";

/** vda is the qcow2 root overlay; vdb the VM's persistent work disk, optional so boot survives. */
export const FSTAB = [
  "# banger: written at image build",
  "/dev/vda / ext4 rw,relatime 0 1",
  "/dev/vdb /root ext4 defaults,nofail 0 2",
  "",
].join("\n");

// mmdebstrap copies these from the build host; the guest must not inherit the host's.
const NEUTRAL_HOSTNAME = "debian\n";
const NEUTRAL_HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";

/** Applies every golden-image adjustment to the tree at `rootDir`. Idempotent. */
export async function prepareGuestTree(rootDir: string): Promise<void> {
  const etc = path.join(rootDir, "etc");
  await removeHostKeys(path.join(etc, "ssh"));
  await replaceFile(path.join(etc, "fstab"), FSTAB);
  await writeUnitLinks(rootDir, NETWORKD_LINKS);
  await maskUnits(rootDir, MASKED_UNITS);
  await lockRootPassword(path.join(etc, "shadow"));
  await resetMachineIdentity(rootDir);
  await installAgent(rootDir);
}

/** The guest agent, started early from sysinit so `vm ports` works before (or without) sshd. */
export async function installAgent(rootDir: string): Promise<void> {
  const { binary, unit } = await agentFiles();
  const target = path.join(rootDir, AGENT_GUEST_PATH);
  await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
  await rm(target, { force: true });
  await copyFile(binary, target);
  await chmod(target, 0o755);
  const unitDir = path.join(rootDir, "etc/systemd/system");
  await rm(path.join(unitDir, AGENT_UNIT_NAME), { force: true });
  await copyFile(unit, path.join(unitDir, AGENT_UNIT_NAME));
  await chmod(path.join(unitDir, AGENT_UNIT_NAME), 0o644);
  const wants = path.join(unitDir, "sysinit.target.wants");
  await mkdir(wants, { recursive: true, mode: 0o755 });
  await rm(path.join(wants, AGENT_UNIT_NAME), { force: true });
  await symlink(`/etc/systemd/system/${AGENT_UNIT_NAME}`, path.join(wants, AGENT_UNIT_NAME));
}

/** Every VM gets its own host key at boot; a key baked into the image would be shared. */
export async function removeHostKeys(sshDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(sshDir);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return;
    throw err;
  }
  for (const name of names) {
    if (name.startsWith("ssh_host_")) await rm(path.join(sshDir, name), { force: true });
  }
}

/**
 * Sets root's password field to "*": no password can match, `passwd -S` reports it locked,
 * and unlike a "!" prefix sshd still accepts root's public key when UsePAM is off.
 */
export async function lockRootPassword(shadowPath: string): Promise<void> {
  const lines = (await readFile(shadowPath, "utf8")).split("\n");
  const index = lines.findIndex((l) => l.startsWith("root:"));
  const fields = index === -1 ? undefined : lines[index]?.split(":");
  if (fields === undefined || fields.length < 2) {
    throw new BangerError(
      "IMAGE_BUILD_FAILED",
      `cannot lock root's password: "${shadowPath}" has no root entry`,
    );
  }
  fields[1] = "*";
  lines[index] = fields.join(":");
  await writeFile(shadowPath, lines.join("\n"));
}

/** Each VM must get its own machine-id and host name, not copies of the build host's. */
export async function resetMachineIdentity(rootDir: string): Promise<void> {
  const etc = path.join(rootDir, "etc");
  await replaceFile(path.join(etc, "machine-id"), "");
  await chmod(path.join(etc, "machine-id"), 0o444);
  await rm(path.join(rootDir, "var/lib/dbus/machine-id"), { force: true });
  await replaceFile(path.join(etc, "hostname"), NEUTRAL_HOSTNAME);
  await replaceFile(path.join(etc, "hosts"), NEUTRAL_HOSTS);
  await replaceFile(path.join(etc, "resolv.conf"), "");
}

export async function replaceFile(file: string, content: string): Promise<void> {
  // rm first: the file may be a symlink, and its mode came from the host.
  await rm(file, { force: true });
  await writeFile(file, content, { mode: 0o644 });
}

/** Copies the tree's /root into `destDir`, keeping modes and timestamps (dotfiles, .ssh). */
export async function copyRootSkel(rootDir: string, destDir: string): Promise<void> {
  await cp(path.join(rootDir, "root"), destDir, {
    recursive: true,
    preserveTimestamps: true,
    verbatimSymlinks: true,
    errorOnExist: true,
    force: false,
  });
}
