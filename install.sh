#!/usr/bin/env bash
# Installs everything banger needs on a Debian 12 host, builds it and puts `banger` and
# `bangerd` on PATH. `--dev` adds what the test suite and benchmarks use.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root: banger creates bridges and taps and installs Debian packages" >&2
  exit 1
fi

packages=(
  qemu-system-x86 qemu-utils e2fsprogs mmdebstrap busybox-static cpio git openssh-client
  iproute2 nftables xz-utils zstd ca-certificates gpgv debian-archive-keyring dpkg
  gcc libc6-dev make kmod
)
if [ "${1:-}" = "--dev" ]; then
  packages+=(openssh-server dnsmasq-base bsdutils procps gnupg docker-registry skopeo umoci
    bind9-dnsutils)
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

npm ci --no-audit --no-fund
# npm may skip install scripts it has not been told to trust; the native module must load.
node -e 'require("better-sqlite3")' 2>/dev/null || npm rebuild better-sqlite3
npm run build

ln -sf "$PWD/dist/cli/main.js" /usr/local/bin/banger
ln -sf "$PWD/dist/daemon/main.js" /usr/local/bin/bangerd
echo "banger installed: $(banger version)"
