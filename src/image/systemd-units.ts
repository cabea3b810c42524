// Private: enabling and masking systemd units in a root tree from the host, as plain symlinks
// (what `systemctl --root enable|mask` would write), so the host needs no systemd.
import { mkdir, rm, symlink } from "node:fs/promises";
import path from "node:path";

/**
 * Units that only cost boot time or background work in a throwaway VM under software
 * emulation. Masking a unit the image does not ship is harmless, so the list covers optional
 * packages too.
 */
export const MASKED_UNITS: readonly string[] = [
  "apt-daily.service",
  "apt-daily.timer",
  "apt-daily-upgrade.service",
  "apt-daily-upgrade.timer",
  "dpkg-db-backup.service",
  "dpkg-db-backup.timer",
  "e2scrub_all.service",
  "e2scrub_all.timer",
  "e2scrub_reap.service",
  "fstrim.service",
  "fstrim.timer",
  "man-db.service",
  "man-db.timer",
  "logrotate.service",
  "logrotate.timer",
  "systemd-tmpfiles-clean.timer",
  // Boot must not wait for "online": the network file is static and sshd binds to any address.
  "systemd-networkd-wait-online.service",
  // With an empty machine-id every boot is a first boot, and firstboot would prompt on the
  // console for a locale, a timezone and a root password, stalling the boot.
  "systemd-firstboot.service",
  // The serial console (serial-getty@ttyS0, from the kernel's console=) stays.
  "getty@tty1.service",
  "systemd-pstore.service",
];

/** A symlink `link` (relative to the tree's /etc/systemd/system) pointing at `target`. */
export interface UnitLink {
  link: string;
  target: string;
}

/** What `systemctl enable systemd-networkd` writes, minus wait-online (masked above). */
export const NETWORKD_LINKS: readonly UnitLink[] = [
  {
    link: "multi-user.target.wants/systemd-networkd.service",
    target: "/lib/systemd/system/systemd-networkd.service",
  },
  {
    link: "sockets.target.wants/systemd-networkd.socket",
    target: "/lib/systemd/system/systemd-networkd.socket",
  },
  {
    link: "dbus-org.freedesktop.network1.service",
    target: "/lib/systemd/system/systemd-networkd.service",
  },
];

const UNIT_NAME = /^[\w@.:\\-]+$/;

/** Masks each unit by pointing `/etc/systemd/system/<unit>` at /dev/null. Idempotent. */
export async function maskUnits(rootDir: string, units: readonly string[]): Promise<void> {
  await writeUnitLinks(
    rootDir,
    units.map((unit) => ({ link: unit, target: "/dev/null" })),
  );
}

/** Creates each link under the tree's /etc/systemd/system, replacing what was there. */
export async function writeUnitLinks(rootDir: string, links: readonly UnitLink[]): Promise<void> {
  const unitDir = path.join(rootDir, "etc/systemd/system");
  for (const { link, target } of links) {
    const parts = link.split("/");
    if (parts.length > 2 || !parts.every((p) => UNIT_NAME.test(p) && !/^\.+$/.test(p))) {
      throw new Error(`writeUnitLinks: invalid unit link "${link}"`);
    }
    const linkPath = path.join(unitDir, link);
    await mkdir(path.dirname(linkPath), { recursive: true });
    await rm(linkPath, { force: true });
    await symlink(target, linkPath);
  }
}
