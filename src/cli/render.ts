import type { ProgressEvent } from "../api/index.js";

export type OutputMode = "tty" | "plain" | "json";

export function outputMode(json: boolean, stream: NodeJS.WriteStream = process.stderr): OutputMode {
  if (json) return "json";
  return stream.isTTY ? "tty" : "plain";
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB`;
  return `${n} B`;
}

function bar(current: number, total: number, width = 24): string {
  const frac = Math.max(0, Math.min(1, current / total));
  const filled = Math.round(frac * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${Math.round(frac * 100)}%`;
}

/**
 * Renders progress events: on a terminal one line per step with its duration and a redrawn
 * bar for measured progress; plain lines when not on a terminal; JSON lines with --json.
 * Everything goes to stderr so that stdout carries only command output.
 */
export function progressRenderer(
  mode: OutputMode,
  out: NodeJS.WriteStream = process.stderr,
): (e: ProgressEvent) => void {
  let openLine = false;
  const clear = (): void => {
    if (openLine) out.write("\r\x1b[K");
    openLine = false;
  };
  return (e) => {
    if (mode === "json") {
      out.write(JSON.stringify(e) + "\n");
      return;
    }
    if (e.type === "note") {
      clear();
      out.write(`${e.level === "warn" ? "warning: " : ""}${e.message}\n`);
      return;
    }
    if (e.type === "progress") {
      if (mode !== "tty") return;
      const amount =
        e.unit === "bytes"
          ? `${formatBytes(e.current)}${e.total ? ` / ${formatBytes(e.total)}` : ""}`
          : `${e.current}${e.total ? ` / ${e.total}` : ""}`;
      clear();
      out.write(`  ${e.step}: ${e.total ? `${bar(e.current, e.total)} ` : ""}${amount}`);
      openLine = true;
      return;
    }
    if (mode === "plain") {
      if (e.status === "start") out.write(`${e.message}...\n`);
      else
        out.write(
          `${e.message}: ${e.status === "done" ? "done" : "failed"} in ${seconds(e.durationMs)}\n`,
        );
      return;
    }
    clear();
    if (e.status === "start") {
      out.write(`  ${e.message}...`);
      openLine = true;
    } else {
      out.write(`${e.status === "done" ? "✓" : "✗"} ${e.message} (${seconds(e.durationMs)})\n`);
    }
  };
}
