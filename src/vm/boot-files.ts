import type { BootFile } from "../kernel/index.js";
import type { Subnet } from "../net/index.js";

export interface BootSettings {
  name: string;
  address: string;
  subnet: Subnet;
  mac: string;
  authorizedKey: string;
  hostPrivateKey: string;
  hostPublicKey: string;
}

const SSHD_DROP_IN = `# Written by banger at every boot.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/banger_authorized_keys
HostKey /etc/ssh/ssh_host_ed25519_key
UseDNS no
`;

/**
 * The files a VM receives at each boot through its initramfs: who it is, its static network
 * settings, and how banger logs in. Nothing is written into the shared image.
 */
export function bootFiles(s: BootSettings): BootFile[] {
  const network = [
    "# Written by banger at every boot.",
    "[Match]",
    `MACAddress=${s.mac}`,
    "",
    "[Network]",
    `Address=${s.address}/${s.subnet.prefix}`,
    `Gateway=${s.subnet.gateway}`,
    `DNS=${s.subnet.gateway}`,
    "Domains=~vm",
    "LinkLocalAddressing=no",
    "IPv6AcceptRA=no",
    "",
  ].join("\n");
  return [
    { path: "/etc/hostname", content: `${s.name}\n`, mode: 0o644 },
    {
      path: "/etc/hosts",
      content: `127.0.0.1\tlocalhost\n127.0.1.1\t${s.name} ${s.name}.vm\n::1\tlocalhost ip6-localhost\n`,
      mode: 0o644,
    },
    { path: "/etc/systemd/network/10-banger.network", content: network, mode: 0o644 },
    { path: "/etc/resolv.conf", content: `nameserver ${s.subnet.gateway}\n`, mode: 0o644 },
    { path: "/etc/ssh/sshd_config.d/banger.conf", content: SSHD_DROP_IN, mode: 0o644 },
    {
      path: "/etc/ssh/banger_authorized_keys",
      content: `${s.authorizedKey.trim()}\n`,
      mode: 0o644,
    },
    { path: "/etc/ssh/ssh_host_ed25519_key", content: s.hostPrivateKey, mode: 0o600 },
    { path: "/etc/ssh/ssh_host_ed25519_key.pub", content: s.hostPublicKey, mode: 0o644 },
  ];
}

/** The guest kernel's command line. */
export function kernelCmdline(): string {
  return [
    "console=ttyS0",
    "root=/dev/vda",
    "rw",
    "panic=-1",
    "reboot=t",
    "8250.nr_uarts=1",
    "i8042.noaux",
    "i8042.nomux",
    "i8042.nopnp",
    "i8042.dumbkbd",
    "net.ifnames=0",
  ].join(" ");
}
