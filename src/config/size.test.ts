import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { formatMib, parseDurationMs, parseSizeMib } from "./size.js";

const limits = { minMib: 128, maxMib: 262144 };

test("sizes: units are binary and a bare number means MiB", () => {
  assert.equal(parseSizeMib("4G", "--memory", limits), 4096);
  assert.equal(parseSizeMib("4GiB", "--memory", limits), 4096);
  assert.equal(parseSizeMib("4gb", "--memory", limits), 4096);
  assert.equal(parseSizeMib("512M", "--memory", limits), 512);
  assert.equal(parseSizeMib("512", "--memory", limits), 512);
  assert.equal(parseSizeMib(768, "--memory", limits), 768);
  assert.equal(parseSizeMib("1.5G", "--memory", limits), 1536);
  assert.equal(parseSizeMib("1T", "--disk-size", { minMib: 1, maxMib: 2 ** 21 }), 2 ** 20);
});

test("sizes: zero, negative, garbage and out-of-range values name the field and the limit", () => {
  for (const bad of ["0", "-5", "lots", "", "4 X", "1e9", "0x10"]) {
    assert.throws(
      () => parseSizeMib(bad, "--memory", limits),
      (err) => isBangerError(err, "INVALID_SIZE") && err.message.includes("--memory"),
      bad,
    );
  }
  assert.throws(
    () => parseSizeMib("999G", "--memory", limits),
    (err) => isBangerError(err) && /must be between 128M and 256G/.test(err.message),
  );
  assert.throws(() => parseSizeMib("64M", "--memory", limits), /must be between/);
});

test("formatMib writes whole GiB as G", () => {
  assert.equal(formatMib(2048), "2G");
  assert.equal(formatMib(1536), "1536M");
});

test("durations", () => {
  assert.equal(parseDurationMs("90s", "t"), 90_000);
  assert.equal(parseDurationMs("3m", "t"), 180_000);
  assert.equal(parseDurationMs("500ms", "t"), 500);
  assert.equal(parseDurationMs("12", "t"), 12_000);
  assert.throws(() => parseDurationMs("0s", "t"), /must be positive/);
  assert.throws(() => parseDurationMs("soon", "t"), /not a duration/);
});
