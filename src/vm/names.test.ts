import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { generateName, validateName } from "./names.js";

test("names must be DNS labels", () => {
  for (const good of ["a", "web-1", "x".repeat(63), "0abc"]) assert.equal(validateName(good), good);
  for (const bad of ["", "Web", "-a", "a-", "a_b", "a.b", "x".repeat(64), "é", "a b", "../x"]) {
    assert.throws(
      () => validateName(bad),
      (e) => isBangerError(e, "INVALID_NAME"),
      bad,
    );
  }
});

test("generated names are valid two-word labels that avoid taken ones", () => {
  const taken = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const n = generateName((x) => taken.has(x));
    assert.equal(validateName(n), n);
    assert.ok(!taken.has(n));
    taken.add(n);
  }
});
