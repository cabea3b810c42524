import assert from "node:assert/strict";
import { test } from "node:test";
import { Store, type VmRecord } from "../store/index.js";
import { storeRecords } from "./dns.js";

function record(name: string): VmRecord {
  const now = new Date().toISOString();
  return {
    id: `id-${name}`,
    name,
    image: "i",
    kernel: "k",
    vcpus: 1,
    memoryMib: 512,
    diskSizeMib: 1024,
    state: "running",
    lastError: null,
    createdAt: now,
    updatedAt: now,
  };
}

test("records follow leases: a VM without an address has no A record", () => {
  const store = new Store(":memory:");
  store.insertVm(record("web"));
  store.insertVm(record("db"));
  const records = storeRecords(store);
  assert.equal(records.lookup("web"), undefined);

  store.leaseAddress("id-web", () => "172.16.0.2");
  assert.equal(records.lookup("web"), "172.16.0.2");
  assert.equal(records.reverse("172.16.0.2"), "web");
  assert.equal(records.lookup("db"), undefined);
  assert.equal(records.lookup("nope"), undefined);

  store.releaseAddress("id-web");
  assert.equal(records.lookup("web"), undefined);
  assert.equal(records.reverse("172.16.0.2"), undefined);
});
