import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { isBangerError } from "../errors/index.js";
import { MIGRATIONS } from "./migrations.js";
import { Store, type VmRecord } from "./store.js";

function record(name: string, id = name): VmRecord {
  const now = new Date().toISOString();
  return {
    id,
    name,
    image: "debian-bookworm",
    kernel: "k",
    vcpus: 1,
    memoryMib: 512,
    diskSizeMib: 1024,
    state: "created",
    lastError: null,
    createdAt: now,
    updatedAt: now,
  };
}

test("records round-trip and names are unique", () => {
  const store = new Store(":memory:");
  store.insertVm(record("web"));
  assert.equal(store.getVmByName("web")?.id, "web");
  assert.throws(
    () => store.insertVm(record("web", "other")),
    (e) => isBangerError(e, "VM_NAME_TAKEN"),
  );
  store.setVmState("web", "error", "boom");
  assert.equal(store.getVm("web")?.state, "error");
  assert.equal(store.getVm("web")?.lastError, "boom");
  const ws = { guestPath: "/root/app", hostPath: "/src/app", commit: "abc", preparedAt: "t" };
  store.setWorkspace("web", ws);
  assert.deepEqual(store.getVmByName("web")?.workspace, ws);
  store.deleteVm("web");
  assert.equal(store.listVms().length, 0);
});

test("leases: one per VM, distinct addresses, released on delete", () => {
  const store = new Store(":memory:");
  store.insertVm(record("a"));
  store.insertVm(record("b"));
  const pick = (used: ReadonlySet<string>): string => {
    for (let i = 2; ; i++) if (!used.has(`10.0.0.${i}`)) return `10.0.0.${i}`;
  };
  assert.equal(store.leaseAddress("a", pick), "10.0.0.2");
  assert.equal(store.leaseAddress("a", pick), "10.0.0.2", "a VM keeps its lease");
  assert.equal(store.leaseAddress("b", pick), "10.0.0.3");
  store.releaseAddress("a");
  assert.equal(store.addressOf("a"), undefined);
  store.deleteVm("b");
  assert.equal(store.leases().size, 0, "deleting a VM drops its lease");
});

test("migrations run once and a newer schema is refused", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "banger-store-"));
  const file = path.join(dir, "banger.db");
  new Store(file).close();
  const again = new Store(file);
  assert.equal(again.schemaVersion(), MIGRATIONS.length);
  again.close();
  const db = new Database(file);
  db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  db.close();
  assert.throws(
    () => new Store(file),
    (e) => isBangerError(e, "STORE_FAILED"),
  );
});
