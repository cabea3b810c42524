import assert from "node:assert/strict";
import dgram from "node:dgram";
import { test } from "node:test";
import { startDnsServer } from "../dns/index.js";
import { dnsCheck } from "./dns.js";

const NO_RECORDS = { lookup: () => undefined, reverse: () => undefined };

test("banger's server on the port passes", async () => {
  const server = await startDnsServer({ host: "127.0.0.1", port: 0, records: NO_RECORDS });
  try {
    const row = await dnsCheck(server.address.port);
    assert.equal(row.status, "PASS", row.detail);
  } finally {
    await server.close();
  }
});

test("a port held by a silent program warns that it is taken", async () => {
  const squatter = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => squatter.bind(0, "127.0.0.1", resolve));
  try {
    const row = await dnsCheck(squatter.address().port);
    assert.equal(row.status, "WARN");
    assert.match(row.detail, /taken by another program/);
    assert.match(row.fix ?? "", /\[dns\] port/);
  } finally {
    squatter.close();
  }
});

test("a free port warns that nothing serves .vm", async () => {
  const probe = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
  const port = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const row = await dnsCheck(port);
  assert.equal(row.status, "WARN");
  assert.match(row.detail, /nothing serves \.vm/);
});
