import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { assertDeviceName, macForVm, tapNameForVm } from "./device-names.js";

test("macForVm is stable, locally administered and unicast", () => {
  const ids = ["01j9x3f7", "vm-a", "vm-b", "", "a/b c"];
  for (const id of ids) {
    const mac = macForVm(id);
    assert.match(mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.equal(macForVm(id), mac);
    const first = parseInt(mac.slice(0, 2), 16);
    assert.equal(first & 0x01, 0, `${mac} must be unicast`);
    assert.equal(first & 0x02, 0x02, `${mac} must be locally administered`);
  }
  assert.notEqual(macForVm("vm-a"), macForVm("vm-b"));
});

test("tapNameForVm is a valid interface name for any id", () => {
  for (const id of ["01J9X3F7ZQ8M2N4P6R8T0V2W4Y", "vm-a", "x".repeat(200), "a/b c:d"]) {
    const name = tapNameForVm(id);
    assert.match(name, /^bgr[0-9a-f]{12}$/);
    assert.equal(name.length, 15);
    assert.doesNotThrow(() => assertDeviceName(name, "tap"));
    assert.equal(tapNameForVm(id), name);
  }
});

test("tapNameForVm separates ids that share a long prefix", () => {
  const a = tapNameForVm("01J9X3F7ZQ8M2N4P6R8T0V2W4Y");
  const b = tapNameForVm("01J9X3F7ZQ8M2N4P6R8T0V2W4Z");
  assert.notEqual(a, b);
});

test("assertDeviceName refuses names the kernel or ip would misread", () => {
  for (const bad of ["", "a".repeat(16), "-dev", "a b", "a/b", "a:b", ".", "..", "bgr\n"]) {
    assert.throws(
      () => assertDeviceName(bad, "tap"),
      (err) => isBangerError(err, "INVALID_ARGUMENT"),
      JSON.stringify(bad),
    );
  }
  assert.doesNotThrow(() => assertDeviceName("banger0", "bridge"));
});
