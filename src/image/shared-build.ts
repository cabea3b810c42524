// Private: letting concurrent callers in one process wait on a single build, each with its own
// abort signal, while the build itself stops only when every caller has gone.
import type { ProgressEvent, Reporter } from "../api/progress.js";

/** Starts the real build; `report` reaches every current caller's reporter. */
export type BuildFn<T> = (report: Reporter, signal: AbortSignal) => Promise<T>;

/** Joins the running build for `key`, or starts one; `interrupted` makes a caller's abort error. */
export type BuildSharer<T> = (
  key: string,
  build: BuildFn<T>,
  report: Reporter,
  signal: AbortSignal | undefined,
  interrupted: () => Error,
) => Promise<T>;

interface SharedBuild<T> {
  promise: Promise<T>;
  controller: AbortController;
  reporters: Set<Reporter>;
  /** Stops new callers from joining; they start a fresh build instead. */
  forget: () => void;
}

/** A fresh registry of in-flight builds, keyed by the caller (for example by image dir). */
export function createBuildSharer<T>(): BuildSharer<T> {
  const inFlight = new Map<string, SharedBuild<T>>();

  const start = (key: string, build: BuildFn<T>): SharedBuild<T> => {
    const controller = new AbortController();
    const reporters = new Set<Reporter>();
    const fanOut = (event: ProgressEvent): void => reporters.forEach((r) => r(event));
    const forget = (): void => {
      if (inFlight.get(key) === shared) inFlight.delete(key);
    };
    const shared: SharedBuild<T> = {
      promise: build(fanOut, controller.signal).finally(() => forget()),
      controller,
      reporters,
      forget,
    };
    inFlight.set(key, shared);
    return shared;
  };

  return (key, build, report, signal, interrupted) => {
    if (signal?.aborted === true) return Promise.reject(interrupted());
    const shared = inFlight.get(key) ?? start(key, build);
    return waitFor(shared, report, signal, interrupted);
  };
}

function waitFor<T>(
  shared: SharedBuild<T>,
  report: Reporter,
  signal: AbortSignal | undefined,
  interrupted: () => Error,
): Promise<T> {
  // Wrapped so that two callers passing the same reporter still count as two waiters.
  const mine: Reporter = (event) => report(event);
  shared.reporters.add(mine);
  return new Promise<T>((resolve, reject) => {
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      shared.reporters.delete(mine);
      if (shared.reporters.size > 0) return reject(interrupted());
      // The last caller out waits for the build's cleanup, so it returns to a tidy state dir.
      shared.forget();
      shared.controller.abort(interrupted());
      const rejectLater = (): void => reject(interrupted());
      shared.promise.then(rejectLater, rejectLater);
    };
    signal?.addEventListener("abort", onAbort, { once: true });

    const settle = (): boolean => {
      signal?.removeEventListener("abort", onAbort);
      shared.reporters.delete(mine);
      return !aborted;
    };
    shared.promise.then(
      (value) => {
        if (settle()) resolve(value);
      },
      (err: unknown) => {
        if (settle()) reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
