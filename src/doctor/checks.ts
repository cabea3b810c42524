import { access, constants, statfs } from "node:fs/promises";
import { run, which } from "../host/index.js";
import type { Paths } from "../paths/index.js";

export type CheckStatus = "PASS" | "WARN" | "FAIL";

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** One line saying how to fix a WARN or FAIL. */
  fix?: string;
}

const GIB = 1024 ** 3;

async function tool(
  name: string,
  binary: string,
  pkg: string,
  required = true,
): Promise<CheckResult> {
  const found = await which(binary);
  if (found) return { name, status: "PASS", detail: found };
  return {
    name,
    status: required ? "FAIL" : "WARN",
    detail: `${binary} not found`,
    fix: `apt-get install ${pkg}`,
  };
}

export function toolChecks(): Promise<CheckResult>[] {
  return [
    tool("qemu", "qemu-system-x86_64", "qemu-system-x86"),
    tool("qemu-img", "qemu-img", "qemu-utils"),
    tool("mmdebstrap", "mmdebstrap", "mmdebstrap"),
    tool("e2fsprogs", "mkfs.ext4", "e2fsprogs"),
    tool("busybox", "busybox", "busybox-static"),
    tool("ssh client", "ssh", "openssh-client"),
    tool("ssh-keygen", "ssh-keygen", "openssh-client"),
    tool("iproute2", "ip", "iproute2"),
    tool("dpkg-deb", "dpkg-deb", "dpkg"),
    tool("gpgv", "gpgv", "gpgv"),
  ];
}

export async function tunCheck(): Promise<CheckResult> {
  try {
    await access("/dev/net/tun", constants.R_OK | constants.W_OK);
    return { name: "/dev/net/tun", status: "PASS", detail: "present" };
  } catch {
    return {
      name: "/dev/net/tun",
      status: "FAIL",
      detail: "missing or not accessible",
      fix: "modprobe tun, or run banger as root",
    };
  }
}

/** Creates and removes a throwaway bridge: the only honest test that bridges work here. */
export async function bridgeCheck(): Promise<CheckResult> {
  const name = `bgdoc${process.pid % 10000}`;
  try {
    await run("ip", ["link", "add", "name", name, "type", "bridge"], { timeoutMs: 5000 });
    await run("ip", ["link", "del", name], { timeoutMs: 5000 });
    return { name: "bridge", status: "PASS", detail: "can create Linux bridges" };
  } catch (err) {
    return {
      name: "bridge",
      status: "FAIL",
      detail: `cannot create a bridge: ${err instanceof Error ? err.message.split("\n")[0] : err}`,
      fix: "run as root on a kernel with bridge support (CONFIG_BRIDGE)",
    };
  }
}

export async function nftablesCheck(): Promise<CheckResult> {
  if (!(await which("nft"))) {
    return {
      name: "nftables",
      status: "WARN",
      detail: "nft not found (needed for --nat)",
      fix: "apt-get install nftables",
    };
  }
  try {
    await run("nft", ["list", "tables"], { timeoutMs: 5000 });
    return { name: "nftables", status: "PASS", detail: "nft works" };
  } catch (err) {
    return {
      name: "nftables",
      status: "WARN",
      detail: `nft cannot list tables: ${err instanceof Error ? err.message.split("\n")[0] : err}`,
      fix: "load nf_tables (modprobe nf_tables); only --nat needs it",
    };
  }
}

/** Free space where images and disks go: at least 5 GiB passes, 1 GiB warns. */
export async function diskCheck(paths: Paths): Promise<CheckResult> {
  let dir = paths.stateDir;
  for (;;) {
    try {
      const s = await statfs(dir);
      const free = s.bavail * s.bsize;
      const detail = `${(free / GIB).toFixed(1)} GiB free in ${dir}`;
      if (free >= 5 * GIB) return { name: "disk space", status: "PASS", detail };
      return {
        name: "disk space",
        status: free >= GIB ? "WARN" : "FAIL",
        detail,
        fix: "free space, or set BANGER_STATE_DIR to a larger disk",
      };
    } catch {
      const parent = dir.replace(/\/[^/]+\/?$/, "") || "/";
      if (parent === dir) throw new Error(`cannot stat ${dir}`);
      dir = parent;
    }
  }
}
