// Private: a repeated prepare that sends only what changed. The guest lists its workspace and
// flags what it changed itself since the last prepare (PROBE); the host compares that and its
// own tree with its record of the last prepare (diffTrees) and sends one tar of the changes,
// which the guest unpacks beside the workspace and only then links into place (APPLY).
import { constants } from "node:fs";
import { lstat, open, readlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { step, type Reporter } from "../api/progress.js";
import type { WorkspaceUpdate } from "../api/vm.js";
import { BangerError } from "../errors/index.js";
import { sshArgs, type SshTarget } from "../guest/index.js";
import { diffTrees, ancestors, type Changes, type GuestEntry } from "./changes.js";
import { startChild } from "./child.js";
import { packNewObjects, type HeadMove, type NewObjects } from "./head-move.js";
import { readFromGuest } from "./guest-pipe.js";
import { stagingPath } from "./guest-path.js";
import { APPLY, PROBE, PROBE_OK } from "./guest-scripts.js";
import { checkRoom, guestError, type Staging } from "./guest-staging.js";
import { isToken, type EntrySig, type Manifest } from "./manifest.js";
import type { WorkspaceMode } from "./types.js";

export interface IncrementalInput {
  target: SshTarget;
  guestPath: string;
  stampPath: string;
  /** The host work tree's top directory. */
  top: string;
  mode: WorkspaceMode;
  paths: readonly string[];
  sigs: ReadonlyMap<string, EntrySig>;
  last: Manifest;
  /** The guest's listing, from startProbe. */
  probe: Promise<ProbeResult>;
  /** The host's commit since the last prepare, which the guest's HEAD moves to (shallow). */
  head: HeadMove | null;
  /** Set again in the guest repository when the update brings a new `.git/config`. */
  identity: { userName: string | null; userEmail: string | null };
  /** The token the guest's stamp gets once the update is in. */
  token: string;
  report: Reporter;
  signal?: AbortSignal | undefined;
}

type EntryHeader = Parameters<tar.Pack["entry"]>[0];

export type Outcome = { update: WorkspaceUpdate } | { fallback: string };

/** Guest listings past this size are not compared; a whole prepare is sent instead. */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;
const PROBE_TIMEOUT_MS = 120_000;
const MAX_REASON_CHARS = 200;

/**
 * Brings the guest's workspace up to the host's tree by sending only the differences, or says
 * why it cannot (the caller then sends everything). Throws what a whole prepare would throw
 * for an unreachable VM or a full disk.
 */
export async function updateWorkspace(input: IncrementalInput): Promise<Outcome> {
  const { report } = input;
  const probe = await step(
    report,
    "workspace-compare",
    "Comparing with the workspace in the VM",
    () => input.probe,
  );
  if ("fallback" in probe) return probe;
  if (probe.token !== input.last.token) {
    return { fallback: "the workspace in the VM is not the one banger last prepared" };
  }
  const changes = diffTrees(input, input.last, probe.entries);
  if ("fallback" in changes) return changes;
  if (changes.send.length > input.paths.length / 2 && changes.send.length > 100) {
    return { fallback: "most files changed" };
  }
  const objects =
    input.head === null ? null : await packNewObjects(input.top, input.head, input.signal);
  if (objects !== null && "fallback" in objects) return objects;
  try {
    return { update: await sendUpdate(input, changes, probe.freeBytes, objects) };
  } finally {
    await objects?.dispose();
  }
}

async function sendUpdate(
  input: IncrementalInput,
  changes: Changes,
  freeBytes: number,
  objects: NewObjects | null,
): Promise<WorkspaceUpdate> {
  const bytes = changes.send.reduce((n, p) => n + (sizeOf(input.sigs.get(p)) ?? 0), 0);
  const staging: Staging = {
    target: input.target,
    guestPath: input.guestPath,
    dir: stagingPath(input.guestPath),
    freeBytes,
  };
  checkRoom(staging, bytes + (objects?.bytes ?? 0));
  const n = changes.send.length;
  const commit = input.head === null ? "" : ` and commit ${input.head.to.slice(0, 12)}`;
  const message = `Sending ${n} changed ${n === 1 ? "entry" : "entries"} (${kib(bytes)} KiB)${commit}, removing ${changes.remove.length}`;
  await step(input.report, "workspace-update", message, () =>
    sendChanges(input, changes, staging, objects),
  );
  const update: WorkspaceUpdate = { sent: n, bytes, removed: changes.remove.length };
  return input.head === null ? update : { ...update, commit: input.head.to };
}

interface Probe {
  token: string;
  freeBytes: number;
  entries: Map<string, GuestEntry>;
}

export type ProbeResult = Probe | { fallback: string };

/**
 * Lists the guest's workspace (PROBE). It reads and changes nothing, so a prepare starts it
 * before it knows whether an update will do, and drops it if not.
 */
export async function startProbe(
  target: SshTarget,
  guestPath: string,
  stampPath: string,
  signal: AbortSignal | undefined,
): Promise<ProbeResult> {
  const command = ["sh", "-c", PROBE, "banger-workspace", guestPath, stampPath];
  const exit = await readFromGuest(target, command, {
    maxBytes: MAX_LISTING_BYTES,
    timeoutMs: PROBE_TIMEOUT_MS,
    ...(signal === undefined ? {} : { signal }),
  });
  if (exit.stoppedFor === "overflow") {
    return { fallback: "the workspace in the VM holds too many files to compare" };
  }
  if (exit.code !== 0 || exit.stoppedFor !== null) {
    throw guestError(target, guestPath, "cannot list it", exit, null);
  }
  return parseProbe(exit.stdout);
}

/**
 * PROBE's output: a first line, then NUL-ended entries. The guest is not trusted: a malformed
 * line or path means a whole prepare, never a path outside the workspace.
 */
export function parseProbe(out: Buffer): ProbeResult {
  const eol = out.indexOf(0x0a);
  const head = out.subarray(0, eol < 0 ? out.length : eol).toString("utf8");
  const [word, ...rest] = head.split(" ");
  if (word === "unusable") return { fallback: printable(rest.join(" ")) };
  const [token, freeKib] = rest;
  if (word !== PROBE_OK || eol < 0 || rest.length !== 2 || !isToken(token ?? "")) {
    return { fallback: "the VM's answer was not understood" };
  }
  if (!/^\d{1,15}$/.test(freeKib ?? "")) return { fallback: "the VM reported no free space" };
  const entries = new Map<string, GuestEntry>();
  const body = out.subarray(eol + 1);
  let start = 0;
  while (start < body.length) {
    const end = body.indexOf(0, start);
    if (end < 0) return { fallback: "the VM's listing was cut short" };
    const record = body.subarray(start, end).toString("utf8");
    start = end + 1;
    const m = /^([NO])([a-zA-Z]) ([^]+)$/.exec(record);
    const rel = m?.[3];
    if (m === null || rel === undefined || !usablePath(rel)) {
      return { fallback: "the VM listed a path banger cannot use" };
    }
    entries.set(rel, { type: m[2] as string, drift: m[1] === "N" });
  }
  return { token: token as string, freeBytes: Number(freeKib) * 1024, entries };
}

// Relative, normalised and valid UTF-8: anything else is not a name banger sent or can remove.
function usablePath(p: string): boolean {
  if (p.startsWith("/") || p.includes("\uFFFD") || p.length > 4096) return false;
  return p.split("/").every((part) => part !== "" && part !== "." && part !== "..");
}

function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, "?").slice(0, MAX_REASON_CHARS);
  return clean === "" ? "the VM gave no reason" : clean;
}

async function sendChanges(
  input: IncrementalInput,
  changes: Changes,
  staging: Staging,
  objects: NewObjects | null,
): Promise<void> {
  const { target, signal } = input;
  const reset = changes.resetIndex ? "reset" : "";
  const command = [
    "sh",
    "-c",
    APPLY,
    "banger-workspace",
    input.guestPath,
    staging.dir,
    input.stampPath,
    input.token,
    reset,
    input.head?.to ?? "",
    input.identity.userName ?? "",
    input.identity.userEmail ?? "",
  ];
  const pack = tar.pack();
  const ssh = startChild("ssh", sshArgs(target, { command }), {
    input: pack as unknown as Readable,
    ...(signal === undefined ? {} : { signal }),
  });
  // Whichever side fails first stops the other: a guest that gave up stops the packing (whose
  // writes would wait for a reader forever), a file the host cannot read ends the stream early
  // (the guest then finds no end mark and changes nothing).
  const stopPacking = (): void => void pack.destroy();
  void ssh.exited.then(stopPacking, stopPacking);
  const packed = fillPack(pack, input, changes, objects).then(
    () => null,
    (err: unknown) => {
      pack.destroy();
      ssh.child.stdin?.destroy();
      // Broken pipes and destroyed entries follow from the guest side's end, reported below.
      return err instanceof HostReadError ? err : null;
    },
  );
  const [exit, hostError] = await Promise.all([ssh.exited, packed]);
  if (exit.stoppedFor === "abort" || signal?.aborted === true) {
    throw new BangerError("INTERRUPTED", `updating workspace "${input.guestPath}": interrupted`);
  }
  if (hostError !== null) {
    throw new BangerError(
      "WORKSPACE_FAILED",
      `cannot update workspace "${input.guestPath}": ${hostError.message}; the workspace in the VM is as it was`,
      { hint: "run the prepare again", cause: hostError },
    );
  }
  if (exit.code !== 0 || exit.stoppedFor !== null) {
    throw guestError(target, input.guestPath, "cannot update it", exit, staging);
  }
}

/**
 * The tar APPLY reads: the paths to remove, the entries to send with, when HEAD moves, the new
 * commit's objects as a pack among them, then the end mark.
 */
async function fillPack(
  pack: tar.Pack,
  input: IncrementalInput,
  changes: Changes,
  objects: NewObjects | null,
): Promise<void> {
  const add = (header: EntryHeader, body?: Buffer | string): Promise<void> =>
    new Promise((resolve, reject) =>
      pack.entry(header, body ?? "", (err) => (err ? reject(err) : resolve())),
    );
  const removeList = changes.remove.map((p) => `${p}\0`).join("");
  await add({ name: "banger/remove", mode: 0o600 }, removeList);

  const root = "banger/files";
  if (input.mode === "full_copy") {
    // Directories go with their modes; APPLY's `cp -a` gives them to the guest's directories.
    const top = await lstat(input.top);
    await add({ name: root, type: "directory", mode: top.mode & 0o7777, mtime: top.mtime });
    const dirs = [...ancestors(changes.send)].sort();
    for (const dir of dirs) await addDirectory(add, input, dir);
  }
  for (const rel of changes.send) {
    const sig = input.sigs.get(rel);
    if (sig === undefined) continue;
    const name = `${root}/${rel}`;
    const file = path.join(input.top, rel);
    if (sig.type === "d") await addDirectory(add, input, rel);
    else if (sig.type === "l") {
      const linkname = await readHost(file, () => readlink(file));
      await add({ name, type: "symlink", linkname, mode: sig.mode });
    } else if (sig.type === "f") await addFile(pack, name, file);
  }
  if (objects !== null) {
    // Hard-linked into the guest's object store with the files: a shallow guest's .git is the
    // directory its clone made.
    const dir = `${root}/.git/objects/pack/${objects.name}`;
    await addFile(pack, `${dir}.pack`, objects.pack);
    await addFile(pack, `${dir}.idx`, objects.idx);
  }
  await add({ name: "banger/end", mode: 0o600 }, input.token);
  pack.finalize();
}

async function addDirectory(
  add: (header: EntryHeader) => Promise<void>,
  input: IncrementalInput,
  rel: string,
): Promise<void> {
  const sig = input.sigs.get(rel);
  const mode = sig?.type === "d" ? sig.mode : 0o755;
  await add({ name: `banger/files/${rel}`, type: "directory", mode });
}

// O_NOFOLLOW: a file replaced by a symlink since it was listed is refused, not read through.
async function addFile(pack: tar.Pack, name: string, file: string): Promise<void> {
  const handle = await readHost(file, () => open(file, constants.O_RDONLY | constants.O_NOFOLLOW));
  try {
    const st = await readHost(file, () => handle.stat());
    if (!st.isFile()) throw new HostReadError(`"${file}" is no longer a regular file`);
    await new Promise<void>((resolve, reject) => {
      const header = { name, size: st.size, mode: st.mode & 0o7777, mtime: st.mtime };
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (st.size === 0) {
        pack.entry(header, "", done);
        return;
      }
      const sink = pack.entry(header, done);
      const source = handle.createReadStream({ start: 0, end: st.size - 1, autoClose: false });
      source.on("error", (err) =>
        reject(new HostReadError(`cannot read "${file}": ${err.message}`)),
      );
      let read = 0;
      source.on("data", (c: string | Buffer) => void (read += c.length));
      source.on("end", () => {
        if (read < st.size) reject(new HostReadError(`"${file}" shrank while it was being sent`));
      });
      sink.on("error", () => source.destroy());
      sink.on("close", () => source.destroy());
      source.pipe(sink);
    });
  } finally {
    await handle.close();
  }
}

/** A host file that could not be read as listed: the one failure that starts on the host side. */
class HostReadError extends Error {}

async function readHost<T>(file: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new HostReadError(`cannot read "${file}": ${why}`);
  }
}

function sizeOf(sig: EntrySig | undefined): number | undefined {
  return sig?.type === "f" ? sig.size : undefined;
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}
