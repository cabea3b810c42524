// Private: one build per key at a time within this process. Later callers join the running
// build, see its progress, and can stop waiting on their own; the build itself is aborted only
// when every caller has given up.
import type { Reporter } from "../api/progress.js";
import { BangerError } from "../errors/index.js";

interface Build {
  promise: Promise<unknown>;
  reporters: Set<Reporter>;
  waiting: number;
  controller: AbortController;
}

const builds = new Map<string, Build>();

/**
 * Runs `fn` for `key`, or joins the build already running for it. `fn` receives a reporter that
 * fans out to every caller and a signal that aborts when all callers' signals have aborted.
 * A caller whose own signal aborts gets INTERRUPTED: at once while others still wait, else once
 * the aborted build has unwound.
 */
export function joinBuild<T>(
  key: string,
  report: Reporter,
  signal: AbortSignal | undefined,
  fn: (report: Reporter, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  let build = builds.get(key);
  if (build === undefined) {
    const started: Build = {
      promise: Promise.resolve(),
      reporters: new Set(),
      waiting: 0,
      controller: new AbortController(),
    };
    const fanOut: Reporter = (ev) => started.reporters.forEach((r) => r(ev));
    // Started on the next tick so this caller's reporter is registered before the first event.
    started.promise = Promise.resolve()
      .then(() => fn(fanOut, started.controller.signal))
      .finally(() => {
        if (builds.get(key) === started) builds.delete(key);
      });
    builds.set(key, started);
    build = started;
  }
  return wait(build, report, signal) as Promise<T>;
}

function wait(build: Build, report: Reporter, signal: AbortSignal | undefined): Promise<unknown> {
  build.reporters.add(report);
  build.waiting++;
  let left = false;
  // True when this caller was the last one and so aborted the build.
  const leave = (abortIfLast: boolean): boolean => {
    if (left) return false;
    left = true;
    build.reporters.delete(report);
    build.waiting--;
    if (!abortIfLast || build.waiting > 0) return false;
    build.controller.abort();
    return true;
  };
  const done = build.promise.finally(() => leave(false));
  if (signal === undefined) return done;

  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      const interrupted = new BangerError("INTERRUPTED", "kernel build interrupted");
      // The last caller out waits for the aborted build to clean up its staging dir.
      if (leave(true)) build.promise.then(undefined, () => {}).finally(() => reject(interrupted));
      else reject(interrupted);
    };
    done.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}
