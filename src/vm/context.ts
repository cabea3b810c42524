import type { Config } from "../config/index.js";
import type { AgentClient, AgentHealth } from "../guest/index.js";
import type { Logger } from "../log/index.js";
import type { NftOptions } from "../net/index.js";
import type { Paths } from "../paths/index.js";
import type { Store } from "../store/index.js";
import type { Driver } from "../vmm/index.js";
import { KeyedLock } from "./lock.js";

/** Everything VM operations need, built once by the daemon. */
export interface VmContext {
  paths: Paths;
  config: Config;
  store: Store;
  driver: Driver;
  logger: Logger;
  locks: KeyedLock;
  /** Open guest agent connections, by VM id. */
  agents: Map<string, AgentClient>;
  /** The last health each VM's agent reported, for `vm show`. */
  lastHealth: Map<string, { health: AgentHealth; at: string }>;
  /** Called once the bridge is up at each boot (the daemon starts DNS on it); must not throw. */
  bridgeReady?: (() => Promise<void>) | undefined;
  /** Where the NAT rules go: `nft` on PATH and /proc by default (unit tests pass fakes). */
  nftables?: NftOptions | undefined;
}

export function createVmContext(
  parts: Omit<VmContext, "locks" | "agents" | "lastHealth">,
): VmContext {
  return { ...parts, locks: new KeyedLock(), agents: new Map(), lastHealth: new Map() };
}
