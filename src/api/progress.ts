// Progress of long operations. The daemon streams these as NDJSON; the CLI renders them.

export type ProgressEvent =
  | { type: "step"; step: string; status: "start"; message: string }
  | { type: "step"; step: string; status: "done"; message: string; durationMs: number }
  | { type: "step"; step: string; status: "fail"; message: string; durationMs: number }
  /** Measured progress inside a step; `total` is absent when unknown. */
  | { type: "progress"; step: string; current: number; total?: number; unit: "bytes" | "items" }
  | { type: "note"; level: "info" | "warn"; message: string };

export type Reporter = (event: ProgressEvent) => void;

export const silentReporter: Reporter = () => {};

/**
 * Runs `fn` as the named step: reports its start, then its end with the duration, or its
 * failure (and rethrows).
 */
export async function step<T>(
  report: Reporter,
  stepId: string,
  message: string,
  fn: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  report({ type: "step", step: stepId, status: "start", message });
  try {
    const out = await fn();
    const durationMs = Math.round(performance.now() - started);
    report({ type: "step", step: stepId, status: "done", message, durationMs });
    return out;
  } catch (err) {
    const durationMs = Math.round(performance.now() - started);
    report({ type: "step", step: stepId, status: "fail", message, durationMs });
    throw err;
  }
}
