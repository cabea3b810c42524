import assert from "node:assert/strict";
import { test } from "node:test";
import { KeyedLock } from "./lock.js";

test("operations on one key run one at a time, other keys run alongside", async () => {
  const lock = new KeyedLock();
  const order: string[] = [];
  const slow = (tag: string, ms: number) => async () => {
    order.push(`${tag}+`);
    await new Promise((r) => setTimeout(r, ms));
    order.push(`${tag}-`);
  };
  await Promise.all([
    lock.with("a", slow("a1", 30)),
    lock.with("a", slow("a2", 1)),
    lock.with("b", slow("b", 1)),
  ]);
  assert.deepEqual(order.slice(0, 3), ["a1+", "b+", "b-"]);
  assert.ok(order.indexOf("a1-") < order.indexOf("a2+"));
  assert.equal(lock.isBusy("a"), false);
});

test("a failed operation does not block the next one", async () => {
  const lock = new KeyedLock();
  await assert.rejects(
    lock.with("k", async () => Promise.reject(new Error("boom"))),
    /boom/,
  );
  assert.equal(await lock.with("k", async () => 42), 42);
});
