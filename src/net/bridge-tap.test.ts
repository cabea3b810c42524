// Real devices: creates bridge "bgut0" and a tap on it, so it needs root (CAP_NET_ADMIN).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { run } from "../host/index.js";
import { createTap, deleteTap, ensureBridge, tapExists } from "./index.js";

const BRIDGE = "bgut0";
const TAP = "bgut0tap";
// TEST-NET-1 (RFC 5737): never routed, so it cannot clash with a real network.
const CIDR = "192.0.2.1/24";
const skip = process.getuid?.() !== 0 ? "needs root to create network devices" : false;

interface IpLink {
  ifname: string;
  master?: string;
  flags: string[];
  linkinfo?: { info_kind?: string; info_data?: { type?: string } };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

async function showLink(name: string): Promise<IpLink | undefined> {
  const { stdout } = await run("ip", ["-j", "-d", "addr", "show"]);
  return (JSON.parse(stdout) as IpLink[]).find((l) => l.ifname === name);
}

async function removeIfPresent(name: string): Promise<void> {
  if ((await showLink(name)) !== undefined) await run("ip", ["link", "delete", "dev", name]);
}

async function cleanUp(): Promise<void> {
  await removeIfPresent(TAP);
  await removeIfPresent(BRIDGE);
}

before(async () => {
  if (!skip) await cleanUp();
});
after(async () => {
  if (!skip) await cleanUp();
});

test("ensureBridge creates, addresses and raises the bridge, twice", { skip }, async () => {
  await ensureBridge({ name: BRIDGE, cidr: CIDR });
  await ensureBridge({ name: BRIDGE, cidr: CIDR });

  const link = await showLink(BRIDGE);
  assert.equal(link?.linkinfo?.info_kind, "bridge");
  assert.ok(link.flags.includes("UP"));
  const v4 = (link.addr_info ?? []).filter((a) => a.family === "inet");
  assert.deepEqual(
    v4.map((a) => `${a.local}/${a.prefixlen}`),
    ["192.0.2.1/24"],
  );
});

test("createTap attaches a tap to the bridge, idempotently", { skip }, async () => {
  await ensureBridge({ name: BRIDGE, cidr: CIDR });
  assert.equal(await tapExists(TAP), false);
  await createTap(TAP, BRIDGE);
  await createTap(TAP, BRIDGE);

  const link = await showLink(TAP);
  assert.equal(link?.linkinfo?.info_kind, "tun");
  assert.equal(link.linkinfo.info_data?.type, "tap");
  assert.equal(link.master, BRIDGE);
  assert.ok(link.flags.includes("UP"));
  assert.equal(await tapExists(TAP), true);
});

test("deleteTap removes the tap and accepts an absent one", { skip }, async () => {
  await ensureBridge({ name: BRIDGE, cidr: CIDR });
  await createTap(TAP, BRIDGE);
  await deleteTap(TAP);
  await deleteTap(TAP);
  assert.equal(await showLink(TAP), undefined);
  assert.equal(await tapExists(TAP), false);
});

test("a bridge is neither reported as a tap nor deleted as one", { skip }, async () => {
  await ensureBridge({ name: BRIDGE, cidr: CIDR });
  assert.equal(await tapExists(BRIDGE), false);
  await assert.rejects(deleteTap(BRIDGE), (err) => isBangerError(err, "NETWORK_SETUP_FAILED"));
  await assert.rejects(createTap(BRIDGE, BRIDGE), (err) =>
    isBangerError(err, "NETWORK_SETUP_FAILED"),
  );
  assert.equal((await showLink(BRIDGE))?.linkinfo?.info_kind, "bridge");
});

test("ensureBridge refuses a name taken by a device that is not a bridge", { skip }, async () => {
  await run("ip", ["tuntap", "add", "dev", TAP, "mode", "tap"]);
  await assert.rejects(ensureBridge({ name: TAP, cidr: CIDR }), (err) => {
    assert.ok(isBangerError(err, "NETWORK_SETUP_FAILED"));
    assert.match(err.message, /"bgut0tap".*tun/);
    return true;
  });
  await deleteTap(TAP);
});

test("a failing ip command names the device and carries ip's stderr", { skip }, async () => {
  await assert.rejects(createTap(TAP, "bgutmissing0"), (err) => {
    assert.ok(isBangerError(err, "NETWORK_SETUP_FAILED"));
    assert.match(err.message, /"bgut0tap"/);
    assert.match(err.message, /bgutmissing0/);
    assert.match(err.hint ?? "", /banger doctor/);
    return true;
  });
  assert.equal(await showLink(TAP), undefined, "a failed createTap must not leave its tap");
});
