// Private: the first-boot step written into a pulled image that lacks systemd or sshd: a script
// that installs them with the guest's own package manager, started by a unit or as PID 1.
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { BangerError, isErrno } from "../errors/index.js";

export type PackageManager = "apt" | "apk" | "dnf" | "pacman" | "zypper";

export const FIRST_BOOT_SCRIPT = "/usr/lib/banger/first-boot";
export const FIRST_BOOT_BUSYBOX = "/usr/lib/banger/busybox";
export const FIRST_BOOT_UNIT = "banger-first-boot.service";
const HOST_BUSYBOX = "/bin/busybox";
const ORIGINAL_INIT = "/sbin/init.banger-orig";

const INSTALL: Record<PackageManager, string> = {
  apt:
    "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y " +
    "--no-install-recommends systemd systemd-sysv udev openssh-server iproute2",
  apk: "apk add --no-cache openssh",
  dnf: "dnf install -y systemd openssh-server iproute",
  pacman: "pacman -Sy --noconfirm systemd openssh iproute2",
  zypper: "zypper --non-interactive install systemd openssh iproute2",
};

const BY_ID: Record<string, PackageManager> = {
  debian: "apt",
  ubuntu: "apt",
  alpine: "apk",
  fedora: "dnf",
  rhel: "dnf",
  centos: "dnf",
  rocky: "dnf",
  almalinux: "dnf",
  arch: "pacman",
  opensuse: "zypper",
  suse: "zypper",
  sles: "zypper",
};

/** The package manager for an os-release text: ID first, then each ID_LIKE word. */
export function packageManagerFor(osRelease: string): PackageManager | undefined {
  const field = (key: string): string[] => {
    const m = new RegExp(`^${key}=(.*)$`, "m").exec(osRelease);
    return (m?.[1] ?? "").replace(/["']/g, "").toLowerCase().split(/\s+/).filter(Boolean);
  };
  for (const id of [...field("ID"), ...field("ID_LIKE")]) {
    const found = BY_ID[id] ?? BY_ID[id.split("-")[0] ?? ""];
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The first-boot script. As PID 1 (no systemd in the image) it mounts /proc and /sys, brings
 * the VM's address up from the network file banger writes at each boot, installs, then execs
 * the new init; under systemd it only installs and enables sshd. It records success in
 * /var/lib/banger/first-boot.done, so later boots skip the install.
 */
export function renderFirstBootScript(pm: PackageManager): string {
  return FIRST_BOOT_TEMPLATE.replace("@INSTALL@", INSTALL[pm])
    .replaceAll("@BB@", FIRST_BOOT_BUSYBOX)
    .replaceAll("@ORIG@", ORIGINAL_INIT);
}

export const FIRST_BOOT_UNIT_TEXT = `[Unit]
Description=banger first boot: install an SSH server
After=systemd-networkd.service
ConditionPathExists=!/var/lib/banger/first-boot.done

[Service]
Type=oneshot
ExecStart=${FIRST_BOOT_SCRIPT}
StandardOutput=journal+console
TimeoutStartSec=30min

[Install]
WantedBy=multi-user.target
`;

/**
 * Writes the script, the host's static busybox (for `ip` in images without one) and what starts
 * them: a unit when the image has systemd, else the script as /sbin/init (the image's own init,
 * if any, kept as /sbin/init.banger-orig). Directories on the way must not be symlinks.
 */
export async function installFirstBoot(
  rootDir: string,
  pm: PackageManager,
  hasSystemd: boolean,
): Promise<void> {
  const script = path.join(rootDir, FIRST_BOOT_SCRIPT);
  await mkdir(path.dirname(script), { recursive: true, mode: 0o755 });
  await rm(script, { force: true });
  await writeFile(script, renderFirstBootScript(pm), { mode: 0o755 });
  await chmod(script, 0o755);
  const busybox = path.join(rootDir, FIRST_BOOT_BUSYBOX);
  await rm(busybox, { force: true });
  await copyFile(HOST_BUSYBOX, busybox);
  await chmod(busybox, 0o755);
  if (hasSystemd) await enableUnit(rootDir);
  else await replaceInit(rootDir);
}

async function enableUnit(rootDir: string): Promise<void> {
  const unitDir = path.join(rootDir, "etc/systemd/system");
  const wants = path.join(unitDir, "multi-user.target.wants");
  await mkdir(wants, { recursive: true, mode: 0o755 });
  await rm(path.join(unitDir, FIRST_BOOT_UNIT), { force: true });
  await writeFile(path.join(unitDir, FIRST_BOOT_UNIT), FIRST_BOOT_UNIT_TEXT, { mode: 0o644 });
  await rm(path.join(wants, FIRST_BOOT_UNIT), { force: true });
  await symlink(`/etc/systemd/system/${FIRST_BOOT_UNIT}`, path.join(wants, FIRST_BOOT_UNIT));
}

async function replaceInit(rootDir: string): Promise<void> {
  const sbin = await sbinDir(rootDir);
  const init = path.join(sbin, "init");
  try {
    await rename(init, path.join(sbin, path.basename(ORIGINAL_INIT)));
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
  await symlink(FIRST_BOOT_SCRIPT, init);
}

/** The tree's real /sbin: a merged-/usr image links it to usr/sbin, which is followed. */
async function sbinDir(rootDir: string): Promise<string> {
  const sbin = path.join(rootDir, "sbin");
  let info;
  try {
    info = await lstat(sbin);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
    await mkdir(sbin, { mode: 0o755 });
    return sbin;
  }
  if (info.isDirectory()) return sbin;
  const target = info.isSymbolicLink() ? await readlink(sbin) : "";
  const usrSbin = path.join(rootDir, "usr/sbin");
  if (["usr/sbin", "/usr/sbin"].includes(target) && (await lstat(usrSbin)).isDirectory()) {
    return usrSbin;
  }
  throw new BangerError(
    "IMAGE_UNSUPPORTED",
    `cannot add a first-boot init: /sbin in the image is neither a directory nor a link to /usr/sbin`,
    { hint: "pull an image that ships systemd and an SSH server" },
  );
}

const FIRST_BOOT_TEMPLATE = `#!/bin/sh
# banger first boot: install systemd and an SSH server with the image's package manager.
# The VM needs a route out: create it with --nat.
bb=@BB@
done_file=/var/lib/banger/first-boot.done
say() { echo "banger-first-boot: $*" >/dev/console 2>/dev/null || echo "banger-first-boot: $*"; }

if [ "$$" = 1 ]; then
  $bb mount -t proc proc /proc 2>/dev/null
  $bb mount -t sysfs sysfs /sys 2>/dev/null
  $bb mount -o remount,rw / 2>/dev/null
  $bb hostname -F /etc/hostname 2>/dev/null
fi

# The address comes from the file banger writes into the root at every boot.
net=/etc/systemd/network/10-banger.network
if ! $bb ip route 2>/dev/null | $bb grep -q '^default' && [ -f "$net" ]; then
  mac=$($bb sed -n 's/^MACAddress=//p' "$net")
  addr=$($bb sed -n 's/^Address=//p' "$net")
  gw=$($bb sed -n 's/^Gateway=//p' "$net")
  dev=eth0
  for d in /sys/class/net/*; do
    [ "$($bb cat "$d/address" 2>/dev/null)" = "$mac" ] && dev=\${d##*/}
  done
  $bb ip link set lo up
  $bb ip link set "$dev" up
  $bb ip addr add "$addr" dev "$dev"
  $bb ip route add default via "$gw"
fi

if [ ! -e "$done_file" ]; then
  say "installing systemd and an SSH server (needs --nat)"
  if ( @INSTALL@ ); then
    $bb mkdir -p /var/lib/banger && $bb touch "$done_file"
    say "done"
  else
    say "install failed; the VM has no SSH server (see the console log)"
  fi
fi

if [ "$$" != 1 ]; then
  systemctl enable --now ssh.service 2>/dev/null || systemctl enable --now sshd.service
  exit 0
fi

for s in /lib/systemd/systemd /usr/lib/systemd/systemd; do
  if [ -x "$s" ]; then
    $bb ln -sf "$s" /sbin/init
    $bb ip addr flush dev "$dev" 2>/dev/null
    $bb umount /sys /proc 2>/dev/null
    exec "$s"
  fi
done
# No systemd (Alpine, or a failed install): name the agent's port as udev would, start the
# agent and sshd here, then the image's own init.
$bb mkdir -p /dev/virtio-ports /dev/pts /run/sshd
$bb mount -t devpts devpts /dev/pts 2>/dev/null
for p in /sys/class/virtio-ports/*; do
  n=$($bb cat "$p/name" 2>/dev/null)
  [ -n "$n" ] && $bb ln -sf "../\${p##*/}" "/dev/virtio-ports/$n"
done
[ -x /usr/local/bin/banger-agent ] && /usr/local/bin/banger-agent </dev/null >/dev/null 2>&1 &
[ -x /usr/sbin/sshd ] && /usr/sbin/sshd
[ -e @ORIG@ ] && exec @ORIG@
while :; do $bb sleep 3600; done
`;
