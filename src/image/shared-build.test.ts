import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProgressEvent } from "../api/progress.js";
import { createBuildSharer } from "./shared-build.js";

function deferred(): { promise: Promise<string>; resolve: (v: string) => void } {
  let resolve: (v: string) => void = () => {};
  const promise = new Promise<string>((r) => (resolve = r));
  return { promise, resolve };
}

const interrupted = (): Error => new Error("interrupted");

test("concurrent callers share one build and both see its events", async () => {
  const share = createBuildSharer<string>();
  const gate = deferred();
  let starts = 0;
  const build = async (report: (e: ProgressEvent) => void): Promise<string> => {
    starts++;
    await Promise.resolve();
    report({ type: "note", level: "info", message: "hello" });
    return gate.promise;
  };
  const seenA: ProgressEvent[] = [];
  const seenB: ProgressEvent[] = [];
  const a = share("k", build, (e) => seenA.push(e), undefined, interrupted);
  const b = share("k", build, (e) => seenB.push(e), undefined, interrupted);
  gate.resolve("image");
  assert.deepEqual(await Promise.all([a, b]), ["image", "image"]);
  assert.equal(starts, 1);
  assert.equal(seenA.length, 1);
  assert.equal(seenB.length, 1);

  const c = share(
    "k",
    async () => "second",
    () => {},
    undefined,
    interrupted,
  );
  assert.equal(await c, "second", "a settled build is not reused");
});

test("one caller aborting leaves the build running for the other", async () => {
  const share = createBuildSharer<string>();
  const gate = deferred();
  let buildSignal: AbortSignal | undefined;
  const build = (_r: unknown, signal: AbortSignal): Promise<string> => {
    buildSignal = signal;
    return gate.promise;
  };
  const leaving = new AbortController();
  const a = share("k", build, () => {}, leaving.signal, interrupted);
  const b = share("k", build, () => {}, undefined, interrupted);
  leaving.abort();
  await assert.rejects(a, /interrupted/);
  assert.equal(buildSignal?.aborted, false);
  gate.resolve("done");
  assert.equal(await b, "done");
});

test("the build is aborted when its last caller leaves", async () => {
  const share = createBuildSharer<string>();
  let buildSignal: AbortSignal | undefined;
  const build = (_r: unknown, signal: AbortSignal): Promise<string> => {
    buildSignal = signal;
    return new Promise((_resolve, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason as Error));
    });
  };
  const one = new AbortController();
  const two = new AbortController();
  const a = share("k", build, () => {}, one.signal, interrupted);
  const b = share("k", build, () => {}, two.signal, interrupted);
  one.abort();
  assert.equal(buildSignal?.aborted, false);
  two.abort();
  assert.equal(buildSignal?.aborted, true);
  await assert.rejects(a, /interrupted/);
  await assert.rejects(b, /interrupted/);

  const already = AbortSignal.abort();
  let started = false;
  const c = share(
    "k2",
    async () => ((started = true), "x"),
    () => {},
    already,
    interrupted,
  );
  await assert.rejects(c, /interrupted/);
  assert.equal(started, false);
});
