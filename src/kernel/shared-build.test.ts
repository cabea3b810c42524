import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProgressEvent } from "../api/progress.js";
import { isBangerError } from "../errors/index.js";
import { joinBuild } from "./shared-build.js";

function deferred(): { promise: Promise<string>; resolve: (v: string) => void } {
  let resolve: (v: string) => void = () => {};
  const promise = new Promise<string>((r) => (resolve = r));
  return { promise, resolve };
}

test("concurrent callers share one build and both see its progress", async () => {
  let runs = 0;
  const gate = deferred();
  const a: ProgressEvent[] = [];
  const b: ProgressEvent[] = [];
  const build = async (report: (e: ProgressEvent) => void): Promise<string> => {
    runs++;
    await gate.promise;
    report({ type: "note", level: "info", message: "hi" });
    return "kernel";
  };
  const p1 = joinBuild("k1", (e) => a.push(e), undefined, build);
  const p2 = joinBuild("k1", (e) => b.push(e), undefined, build);
  gate.resolve("go");
  assert.deepEqual(await Promise.all([p1, p2]), ["kernel", "kernel"]);
  assert.equal(runs, 1);
  assert.equal(a.length, 1);
  assert.equal(b.length, 1);
  assert.equal(
    await joinBuild(
      "k1",
      () => {},
      undefined,
      async () => "again",
    ),
    "again",
  );
});

test("one caller giving up does not abort the others' build; all giving up does", async () => {
  const gate = deferred();
  let buildSignal: AbortSignal | undefined;
  let cleanedUp = false;
  const build = async (_r: unknown, signal: AbortSignal): Promise<string> => {
    buildSignal = signal;
    const aborted = new Promise((_ok, fail) => signal.addEventListener("abort", fail));
    try {
      await Promise.race([gate.promise, aborted]);
      return "done";
    } finally {
      cleanedUp = true;
    }
  };
  const c1 = new AbortController();
  const c2 = new AbortController();
  const p1 = joinBuild("k2", () => {}, c1.signal, build);
  const p2 = joinBuild("k2", () => {}, c2.signal, build);
  c1.abort();
  await assert.rejects(p1, (err) => isBangerError(err, "INTERRUPTED"));
  await new Promise((r) => setImmediate(r));
  assert.equal(buildSignal?.aborted, false);
  assert.equal(cleanedUp, false);
  c2.abort();
  await assert.rejects(p2, (err) => isBangerError(err, "INTERRUPTED"));
  assert.equal(buildSignal?.aborted, true);
  assert.equal(cleanedUp, true, "the last caller is answered only after the build unwound");
});
