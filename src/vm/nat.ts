import { applyBridgeRules } from "../net/index.js";
import type { VmContext } from "./context.js";

// Each sync reads the store afresh and replaces the whole ruleset; running them one at a time
// keeps an older sync from landing after a newer one.
const queues = new WeakMap<VmContext, Promise<unknown>>();

/**
 * Makes banger's nftables rules for the bridge match the store: masquerading for every VM that
 * holds a lease and has NAT on, everything else kept on the bridge. Idempotent. When no VM
 * needs NAT, a host without nftables only gets a warning in the log; otherwise the error
 * (HOST_MISSING_TOOL, NETWORK_SETUP_FAILED) is thrown.
 */
export function syncNat(ctx: VmContext): Promise<void> {
  const previous = queues.get(ctx) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => applyFromStore(ctx));
  queues.set(ctx, next);
  return next;
}

/** `syncNat` for clean-up paths, where a failure must not hide the error being handled. */
export async function syncNatQuietly(ctx: VmContext): Promise<void> {
  try {
    await syncNat(ctx);
  } catch (err) {
    ctx.logger.error({ err, op: "nat" }, "cannot update the NAT rules");
  }
}

/** Addresses of VMs with NAT on that hold a lease (running or starting). */
export function natAddresses(ctx: VmContext): string[] {
  return ctx.store
    .listVms()
    .filter((vm) => vm.nat === true)
    .flatMap((vm) => ctx.store.addressOf(vm.id) ?? []);
}

async function applyFromStore(ctx: VmContext): Promise<void> {
  const addresses = natAddresses(ctx);
  const rules = { bridge: ctx.config.network.bridge, natAddresses: addresses };
  try {
    await applyBridgeRules(rules, ctx.nftables ?? {});
    ctx.logger.debug({ op: "nat", ...rules }, "nftables rules applied");
  } catch (err) {
    if (addresses.length > 0) throw err;
    // No VM needs NAT: forwarding stays as the host has it, so isolation is not at stake.
    ctx.logger.warn({ err, op: "nat" }, "cannot apply the bridge's nftables rules");
  }
}
