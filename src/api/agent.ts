// What the daemon reports from a VM's guest agent. Mirrors the agent protocol's result shapes
// (src/guest/agent-protocol.ts validates them) without making the CLI depend on the guest module.

export interface AgentHealth {
  protocol: number;
  agentVersion: string;
  bootId: string | null;
  uptimeSeconds: number | null;
  systemd: { state: string; failedUnits: string[] | null } | null;
}

export interface PortView {
  protocol: "tcp" | "udp";
  family: "ipv4" | "ipv6";
  address: string;
  port: number;
  pid: number | null;
  process: string | null;
  /** `<name>.vm:<port>`. */
  endpoint: string;
  /** Present when the port answered an HTTP request from the host. */
  url?: string;
}

export interface VmPorts {
  vm: string;
  ports: PortView[];
}

export interface VmStats {
  vm: string;
  guest: {
    memory: { totalBytes: number | null; availableBytes: number | null };
    loadAverage: [number, number, number] | null;
    cpuCount: number;
    filesystems: { path: string; totalBytes: number; usedBytes: number; freeBytes: number }[];
  };
  host: {
    pid: number;
    /** CPU time the VMM process has used, user plus system. */
    cpuSeconds: number;
    rssBytes: number;
    disks: { name: string; path: string; apparentBytes: number; allocatedBytes: number }[];
  };
}
