// Private: turning a flattened OCI root tree into a bootable banger guest. The tree came from
// a registry, so every directory written into is checked not to be a symlink first.
import { lstat, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { BangerError, isErrno } from "../errors/index.js";
import { installFirstBoot, packageManagerFor } from "./first-boot.js";
import {
  FSTAB,
  installAgent,
  lockRootPassword,
  removeHostKeys,
  replaceFile,
  resetMachineIdentity,
} from "./guest-tree.js";
import { MASKED_UNITS, NETWORKD_LINKS, maskUnits, writeUnitLinks } from "./systemd-units.js";

/** Directories the adjustments write into; a symlink among them could point at the host. */
const WRITTEN_DIRS = [
  "etc",
  "etc/ssh",
  "etc/systemd",
  "etc/systemd/system",
  "etc/systemd/system/multi-user.target.wants",
  "etc/systemd/system/sockets.target.wants",
  "etc/systemd/system/sysinit.target.wants",
  "var",
  "var/lib",
  "var/lib/dbus",
  "usr",
  "usr/lib",
  "usr/lib/banger",
  "usr/local",
  "usr/local/bin",
];

export interface PulledTreeFacts {
  hasSystemd: boolean;
  hasSshd: boolean;
}

/** What the adjustments found; `needsNat` when a first-boot install was added. */
export interface AdaptResult extends PulledTreeFacts {
  needsNat: boolean;
}

/**
 * Applies banger's guest adjustments to a pulled tree: fstab, networkd enabled, noisy units
 * masked, host keys removed, machine-id emptied, root's password locked, the guest agent, and
 * a first-boot install when systemd or sshd is missing. Rejects with IMAGE_LAYER_UNSAFE when a
 * directory it writes into is a symlink, IMAGE_UNSUPPORTED when a first-boot install is needed
 * but the distribution's package manager is unknown.
 */
export async function adaptPulledTree(rootDir: string): Promise<AdaptResult> {
  for (const dir of WRITTEN_DIRS) await ensureRealDir(rootDir, dir);
  const facts = await inspectTree(rootDir);

  const etc = path.join(rootDir, "etc");
  await removeHostKeys(path.join(etc, "ssh"));
  await replaceFile(path.join(etc, "fstab"), FSTAB);
  await writeUnitLinks(rootDir, NETWORKD_LINKS);
  await maskUnits(rootDir, MASKED_UNITS);
  if (await hasRootShadowEntry(path.join(etc, "shadow"))) {
    await lockRootPassword(path.join(etc, "shadow"));
  }
  await resetMachineIdentity(rootDir);
  await installAgent(rootDir);

  if (facts.hasSystemd && facts.hasSshd) return { ...facts, needsNat: false };
  const osRelease = await readOsRelease(rootDir);
  const pm = packageManagerFor(osRelease);
  if (pm === undefined) {
    const id = /^ID=(.*)$/m.exec(osRelease)?.[1] ?? "unknown";
    throw new BangerError(
      "IMAGE_UNSUPPORTED",
      `cannot add systemd and sshd to the image: no known package manager for ID ${id}`,
      { hint: "pull an image that ships systemd and an SSH server" },
    );
  }
  await installFirstBoot(rootDir, pm, facts.hasSystemd);
  return { ...facts, needsNat: true };
}

/** Looks for systemd and sshd where distributions put them, never following a symlinked dir. */
export async function inspectTree(rootDir: string): Promise<PulledTreeFacts> {
  const any = async (files: string[]): Promise<boolean> => {
    for (const f of files) if (await existsInside(rootDir, f)) return true;
    return false;
  };
  return {
    hasSystemd: await any(["usr/lib/systemd/systemd", "lib/systemd/systemd"]),
    hasSshd: await any(["usr/sbin/sshd", "sbin/sshd", "usr/bin/sshd"]),
  };
}

/** True when `rel` exists and no directory on its way is a symlink. */
async function existsInside(rootDir: string, rel: string): Promise<boolean> {
  let current = rootDir;
  for (const part of rel.split("/")) {
    current = path.join(current, part);
    try {
      const st = await lstat(current);
      if (st.isSymbolicLink() && current !== path.join(rootDir, rel)) return false;
    } catch (err) {
      if (isErrno(err, "ENOENT") || isErrno(err, "ENOTDIR")) return false;
      throw err;
    }
  }
  return true;
}

async function ensureRealDir(rootDir: string, rel: string): Promise<void> {
  const full = path.join(rootDir, rel);
  try {
    const st = await lstat(full);
    if (st.isDirectory()) return;
    throw new BangerError(
      "IMAGE_LAYER_UNSAFE",
      `cannot adjust the image: "/${rel}" is ${st.isSymbolicLink() ? "a symlink" : "not a directory"}`,
      { hint: "banger writes there; pull an image where it is a plain directory" },
    );
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
  await mkdir(full, { mode: 0o755 });
}

async function hasRootShadowEntry(shadowPath: string): Promise<boolean> {
  try {
    const st = await lstat(shadowPath);
    if (!st.isFile()) return false;
    return /^root:/m.test(await readFile(shadowPath, "utf8"));
  } catch (err) {
    if (isErrno(err, "ENOENT")) return false;
    throw err;
  }
}

async function readOsRelease(rootDir: string): Promise<string> {
  for (const rel of ["etc/os-release", "usr/lib/os-release"]) {
    const file = path.join(rootDir, rel);
    try {
      if ((await lstat(file)).isFile()) return await readFile(file, "utf8");
    } catch (err) {
      if (!isErrno(err, "ENOENT")) throw err;
    }
  }
  return "";
}
