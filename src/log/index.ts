// The daemon's structured log: JSON lines through pino. Only the CLI prints for humans.
import { pino, type Logger } from "pino";

export type { Logger } from "pino";

/** A logger writing JSON lines to `filePath` (created if missing), or to stderr when omitted. */
export function createLogger(
  filePath?: string,
  level = process.env["BANGER_LOG_LEVEL"] ?? "info",
): Logger {
  const dest =
    filePath === undefined
      ? pino.destination(2)
      : pino.destination({ dest: filePath, mkdir: true, sync: false });
  return pino({ level, base: { pid: process.pid } }, dest);
}

/** A logger that drops everything; for unit tests and one-shot tools. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
