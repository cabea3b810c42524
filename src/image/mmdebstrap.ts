// Private: bootstrapping a Debian tree with mmdebstrap, and turning its "I:" lines into
// progress events.
import type { Reporter } from "../api/progress.js";
import { BangerError } from "../errors/index.js";
import { run } from "../host/index.js";

export const DEFAULT_MIRROR = "http://deb.debian.org/debian";
export const DEFAULT_SUITE = "bookworm";

/** Packages of the default image on top of minbase. */
export const DEFAULT_PACKAGES: readonly string[] = [
  "systemd",
  "systemd-sysv",
  "udev",
  "dbus",
  "openssh-server",
  "iproute2",
  "git",
  "curl",
  "ca-certificates",
  "procps",
  "less",
  "kmod",
];

// Docs, man pages and translations are a third of a minbase tree and useless in a sandbox;
// copyright files stay for license compliance.
const DPKG_OPTS: readonly string[] = [
  "path-exclude=/usr/share/doc/*",
  "path-include=/usr/share/doc/*/copyright",
  "path-exclude=/usr/share/man/*",
  "path-exclude=/usr/share/info/*",
  "path-exclude=/usr/share/locale/*",
  "path-include=/usr/share/locale/locale.alias",
  "path-exclude=/usr/share/lintian/*",
];

/** mmdebstrap's stage lines, in the order it prints them (mmdebstrap 1.x, non-verbose). */
export const MMDEBSTRAP_STAGES: readonly string[] = [
  "running apt-get update",
  "downloading packages",
  "extracting archives",
  "installing essential packages",
  "installing remaining packages",
  "cleaning package lists and apt cache",
  "success",
];

const BOOTSTRAP_TIMEOUT_MS = 30 * 60_000;

export interface BootstrapOptions {
  rootDir: string;
  mirror: string;
  suite?: string;
  report: Reporter;
  /** Progress events carry this step id. */
  stepId: string;
  signal?: AbortSignal;
}

/** The argument array for one bootstrap; the mirror must already be checked. */
export function mmdebstrapArgs(rootDir: string, mirror: string, suite: string): string[] {
  return [
    // Unshare mode would leave files owned by sub-uids, which mkfs -d would copy as they are.
    "--mode=root",
    "--format=directory",
    "--variant=minbase",
    `--include=${DEFAULT_PACKAGES.join(",")}`,
    ...DPKG_OPTS.map((opt) => `--dpkgopt=${opt}`),
    // apt's lists and .deb cache are removed by mmdebstrap's default cleanup stage.
    suite,
    rootDir,
    mirror,
  ];
}

/** Rejects with INVALID_ARGUMENT unless `mirror` is an http(s) URL (never an option). */
export function checkMirror(mirror: string): void {
  let url: URL | undefined;
  try {
    url = new URL(mirror);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new BangerError(
      "INVALID_ARGUMENT",
      `invalid Debian mirror "${mirror}": not an http(s) URL`,
      {
        hint: "set the mirror to a URL such as http://deb.debian.org/debian",
      },
    );
  }
}

/** The 1-based stage index of an mmdebstrap stderr line, or undefined for any other line. */
export function mmdebstrapStage(line: string): number | undefined {
  if (!line.startsWith("I: ")) return undefined;
  const text = line.slice(3);
  const index = MMDEBSTRAP_STAGES.findIndex((stage) => text.startsWith(stage));
  return index === -1 ? undefined : index + 1;
}

/** Runs mmdebstrap into `rootDir`, reporting a progress event per stage it enters. */
export async function bootstrap(opts: BootstrapOptions): Promise<void> {
  const suite = opts.suite ?? DEFAULT_SUITE;
  const onLine = (line: string): void => {
    const current = mmdebstrapStage(line);
    if (current === undefined) return;
    const total = MMDEBSTRAP_STAGES.length;
    opts.report({ type: "progress", step: opts.stepId, current, total, unit: "items" });
  };
  await run("mmdebstrap", mmdebstrapArgs(opts.rootDir, opts.mirror, suite), {
    timeoutMs: BOOTSTRAP_TIMEOUT_MS,
    onStderr: lineSplitter(onLine),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
}

/** Turns arbitrary chunks into whole lines for `onLine`; a trailing partial line waits. */
export function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let pending = "";
  return (chunk) => {
    const parts = (pending + chunk).split(/\r?\n|\r/);
    pending = parts.pop() ?? "";
    for (const line of parts) onLine(line);
  };
}
