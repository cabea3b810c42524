// The host side of VM networking: the bridge, one tap per running VM, the bridge's subnet and
// the addresses, MACs and device names derived from it, and its nftables rules. DNS is elsewhere.
export { ensureBridge, type BridgeConfig } from "./bridge.js";
export { macForVm, tapNameForVm } from "./device-names.js";
export { allocateAddress, parseBridgeCidr, type Subnet } from "./subnet.js";
export { createTap, deleteTap, tapExists } from "./tap.js";
export {
  applyBridgeRules,
  bridgeRuleset,
  chainName,
  type BridgeRules,
  type NftOptions,
} from "./nft.js";
