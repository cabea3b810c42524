// Rendering of the core benchmarks: units, the CLI's step lines, the run's preamble and the
// closing table.
import { cpus, loadavg } from "node:os";
import { STATE_DIR } from "./core-harness.js";

const MIB = 1024 * 1024;

export interface Row {
  figure: string;
  value: string;
  baseline: string;
  target: string;
  meets: boolean | undefined;
}

export const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

/** "Creating disks: done in 60 ms" lines of the CLI's plain progress, as step → ms. */
export function stepDurations(stderr: string): Map<string, number> {
  const steps = new Map<string, number>();
  for (const m of stderr.matchAll(/^(.+): done in ([\d.]+) (ms|s)$/gm)) {
    const [, label = "", amount = "0", unit] = m;
    steps.set(label.replace(/ on \S+$/, ""), Number(amount) * (unit === "s" ? 1000 : 1));
  }
  return steps;
}

export function printTable(rows: Row[]): void {
  const head: Row = {
    figure: "figure",
    value: "value",
    baseline: "baseline",
    target: "ratio / target",
    meets: undefined,
  };
  const cells = (r: Row): string[] => [
    r.figure,
    r.value,
    r.baseline,
    r.target,
    r.meets === undefined ? "meets" : r.meets ? "yes" : "NO",
  ];
  const all = [head, ...rows].map(cells);
  const widths = all[0]?.map((_, c) => Math.max(...all.map((row) => row[c]?.length ?? 0))) ?? [];
  console.log("");
  for (const row of all)
    console.log(
      row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    );
}

export function describe(runs: number): void {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  console.log(`banger core benchmarks, ${new Date().toISOString()}, ${runs} runs each`);
  console.log(`host: ${cpus().length} CPUs, load average ${load}; state ${STATE_DIR}`);
  console.log(
    "vm run side: CLI start, daemon create (overlay, work disk, host key), bridge, lease, tap,\n" +
      "  boot archive, qemu launch, wait for SSH (banger's own backoff), ssh running `true`, and\n" +
      "  the --rm delete. Bare side: spawning qemu with banger's argv for another VM (its initrd\n" +
      "  with per-VM archive, fresh copies of its pristine overlay and work disk, a bench tap;\n" +
      "  no -daemonize) until port 22 sends SSH- (polled every 100 ms). Disk copies, tap and\n" +
      "  ARP flush (done before both sides) are outside the clock.",
  );
}
