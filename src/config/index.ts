// banger's configuration: the TOML config file, defaults derived from the host, and the
// parsers for the sizes and durations users type.
export {
  loadConfig,
  parseConfig,
  hostFacts,
  hostDefaults,
  LIMITS,
  type Config,
  type VmDefaults,
  type HostFacts,
} from "./config.js";
export { parseSizeMib, formatMib, mibToBytes, parseDurationMs, type SizeLimits } from "./size.js";
