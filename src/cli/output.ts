import { BangerError, causeChain, exitCodeFor } from "../errors/index.js";

/** Prints `banger: <what failed>: <why>`, the cause chain and the hint; returns the exit code. */
export function printError(err: unknown, out: NodeJS.WriteStream = process.stderr): number {
  const [first, ...causes] = causeChain(err);
  out.write(`banger: ${first ?? "unknown error"}\n`);
  for (const c of causes) out.write(`  caused by: ${c}\n`);
  if (err instanceof BangerError) {
    if (err.hint) out.write(`  hint: ${err.hint}\n`);
    return exitCodeFor(err.code);
  }
  return 1;
}

/** Left-aligned columns separated by two spaces. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}
