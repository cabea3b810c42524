import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTscKhz } from "./host-tsc.js";

const cpuinfo = (flags: string, mhz = "2596.138"): string =>
  `processor\t: 0\nmodel name\t: AMD EPYC\ncpu MHz\t\t: ${mhz}\nflags\t\t: fpu ${flags} sse\n`;

test("parseTscKhz: cpu MHz in kHz when the TSC is invariant and nothing scales it", () => {
  assert.equal(parseTscKhz(cpuinfo("tsc constant_tsc nonstop_tsc"), false), 2596138);
});

test("parseTscKhz: untrusted without invariant TSC flags, under cpufreq, or when absurd", () => {
  assert.equal(parseTscKhz(cpuinfo("tsc constant_tsc"), false), undefined);
  assert.equal(parseTscKhz(cpuinfo("tsc nonstop_tsc"), false), undefined);
  assert.equal(parseTscKhz(cpuinfo("tsc constant_tsc nonstop_tsc"), true), undefined);
  assert.equal(parseTscKhz(cpuinfo("constant_tsc nonstop_tsc", "0.000"), false), undefined);
  assert.equal(parseTscKhz("", false), undefined);
});
