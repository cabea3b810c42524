import type { Config } from "../config/index.js";
import type { Logger } from "../log/index.js";
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
}

export function createVmContext(parts: Omit<VmContext, "locks">): VmContext {
  return { ...parts, locks: new KeyedLock() };
}
