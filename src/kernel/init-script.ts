// Private: the /init of banger's base initramfs, a busybox shell script.

/** Where the per-VM archive puts its files inside the initramfs. */
export const BOOT_FILES_DIR = "/banger/root";
/** Where the base initramfs keeps the modules it loads. */
export const INITRD_MODULES_DIR = "/lib/modules";
export const ROOT_WAIT_TENTHS = 100;

const SAFE_MODULE_FILE = /^[A-Za-z0-9_-]+\.ko$/;

/**
 * The /init script loading `moduleFiles` (basenames inside INITRD_MODULES_DIR) in the given
 * order. Every failure prints "banger-init: <what failed>" and powers off, so the VMM exits
 * instead of hanging on a kernel panic loop.
 */
export function renderInitScript(moduleFiles: readonly string[]): string {
  for (const f of moduleFiles) {
    if (!SAFE_MODULE_FILE.test(f)) throw new Error(`unsafe module file name "${f}"`);
  }
  return INIT_TEMPLATE.replace("@MODULES@", moduleFiles.join(" "))
    .replace("@MODULES_DIR@", INITRD_MODULES_DIR)
    .replaceAll("@BOOT_FILES_DIR@", BOOT_FILES_DIR)
    .replace("@ROOT_WAIT_TENTHS@", String(ROOT_WAIT_TENTHS));
}

const INIT_TEMPLATE = `#!/bin/sh
# banger base initramfs: load drivers, mount the root disk, add this VM's files, switch to it.
export PATH=/bin

fail() {
  echo "banger-init: $*"
  /bin/busybox poweroff -f
  # poweroff can fail without ACPI; a dying PID 1 panics, and panic=-1 ends the VMM.
  exit 1
}

/bin/busybox mkdir -p /proc /sys /dev /newroot
/bin/busybox mount -t proc proc /proc || fail "cannot mount /proc"
/bin/busybox --install -s /bin || fail "cannot install busybox applets"
mount -t sysfs sysfs /sys || fail "cannot mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "cannot mount /dev"

for m in @MODULES@; do
  insmod "@MODULES_DIR@/$m" || fail "cannot load module $m"
done

root=/dev/vda
rootfstype=ext4
init=/sbin/init
set -f
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    root=*) root="\${arg#root=}" ;;
    rootfstype=*) rootfstype="\${arg#rootfstype=}" ;;
    init=*) init="\${arg#init=}" ;;
  esac
done
set +f

# The disk appears asynchronously once its driver probes.
tries=0
dev="$root"
while :; do
  case "$root" in
    UUID=*|LABEL=*) dev="$(findfs "$root" 2>/dev/null)" ;;
  esac
  [ -n "$dev" ] && [ -b "$dev" ] && break
  tries=$((tries + 1))
  [ "$tries" -ge @ROOT_WAIT_TENTHS@ ] && fail "root device $root did not appear"
  usleep 100000
done

mount -t "$rootfstype" -o rw "$dev" /newroot || fail "cannot mount $dev ($rootfstype) on /newroot"

# Existing directories keep their owner and mode (a copied /root must not become 0755);
# new directories and all other entries are copied with their archive modes.
if [ -d @BOOT_FILES_DIR@ ]; then
  cd @BOOT_FILES_DIR@ || fail "cannot enter @BOOT_FILES_DIR@"
  find . -type d | while read -r d; do
    [ "$d" = . ] && continue
    [ -d "/newroot/$d" ] && continue
    mkdir "/newroot/$d" && chmod "$(stat -c %a "$d")" "/newroot/$d" || exit 1
  done || fail "cannot create directories from @BOOT_FILES_DIR@"
  find . ! -type d | while read -r f; do
    rm -f "/newroot/$f" && cp -a "$f" "/newroot/$f" || exit 1
  done || fail "cannot copy files from @BOOT_FILES_DIR@"
  cd /
fi

[ -e "/newroot$init" ] || [ -L "/newroot$init" ] || fail "init $init not found on $dev"
for fs in dev proc sys; do
  if [ -d "/newroot/$fs" ]; then mount --move "/$fs" "/newroot/$fs"; else umount "/$fs"; fi
done
exec switch_root /newroot "$init"
`;
