import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { assertCanDo, canDo } from "./state.js";

test("actions legal per state", () => {
  assert.ok(canDo("start", "stopped"));
  assert.ok(canDo("start", "error"));
  assert.ok(!canDo("start", "running"));
  assert.ok(canDo("stop", "running"));
  assert.ok(!canDo("ssh", "stopped"));
  assert.ok(canDo("delete", "running"));
  assert.ok(!canDo("set", "running"));
});

test("an illegal action names the VM, its state and the next command", () => {
  assert.throws(
    () => assertCanDo("ssh", "web", "stopped"),
    (e) =>
      isBangerError(e, "VM_INVALID_STATE") &&
      e.message === 'cannot ssh VM "web": it is stopped' &&
      e.hint === "banger vm start web",
  );
});
