import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { allocateAddress, parseBridgeCidr } from "./subnet.js";

test("parseBridgeCidr splits the default bridge cidr", () => {
  assert.deepEqual(parseBridgeCidr("172.16.0.1/24"), {
    gateway: "172.16.0.1",
    prefix: 24,
    network: "172.16.0.0",
  });
});

test("parseBridgeCidr finds the network of a gateway in the middle of the subnet", () => {
  assert.deepEqual(parseBridgeCidr("10.20.30.129/25"), {
    gateway: "10.20.30.129",
    prefix: 25,
    network: "10.20.30.128",
  });
  assert.equal(parseBridgeCidr("192.168.255.254/16").network, "192.168.0.0");
});

test("parseBridgeCidr refuses garbage with INVALID_ARGUMENT", () => {
  const bad = [
    "",
    "172.16.0.1",
    "172.16.0.1/",
    "172.16.0/24",
    "172.16.0.256/24",
    "172.16.0.01/24",
    "172.16.0.1/33",
    "172.16.0.1/31",
    "172.16.0.1/8",
    "-172.16.0.1/24",
    "172.16.0.1/24 extra",
    "fd00::1/64",
    "172.16.0.0/24",
    "172.16.0.255/24",
  ];
  for (const cidr of bad) {
    assert.throws(
      () => parseBridgeCidr(cidr),
      (err) => isBangerError(err, "INVALID_ARGUMENT") && err.message.includes(`"${cidr}"`),
      cidr,
    );
  }
});

test("allocateAddress returns the lowest free host address, skipping the gateway", () => {
  const subnet = parseBridgeCidr("172.16.0.1/24");
  assert.equal(allocateAddress(subnet, new Set()), "172.16.0.2");
  assert.equal(allocateAddress(subnet, new Set(["172.16.0.2", "172.16.0.4"])), "172.16.0.3");

  const highGateway = parseBridgeCidr("10.0.0.5/29");
  assert.equal(allocateAddress(highGateway, new Set()), "10.0.0.1");
  assert.equal(allocateAddress(highGateway, new Set(["10.0.0.1", "10.0.0.2"])), "10.0.0.3");
});

test("allocateAddress crosses octet boundaries", () => {
  const subnet = parseBridgeCidr("10.1.0.1/16");
  const used = new Set<string>();
  for (let i = 2; i <= 255; i++) used.add(`10.1.0.${i}`);
  assert.equal(allocateAddress(subnet, used), "10.1.1.0");
});

test("allocateAddress never hands out the broadcast address and reports exhaustion", () => {
  const subnet = parseBridgeCidr("192.168.50.1/30");
  assert.equal(allocateAddress(subnet, new Set()), "192.168.50.2");
  assert.throws(
    () => allocateAddress(subnet, new Set(["192.168.50.2"])),
    (err) => isBangerError(err, "ADDRESS_POOL_EXHAUSTED") && err.message.includes("/30"),
  );
});
