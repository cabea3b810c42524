// Private: which paths a repeated prepare must send and remove, from the host's record of the
// last prepare, the host tree now and the guest's listing. Pure, so every case is unit-tested.
import type { EntrySig, Manifest } from "./manifest.js";
import type { WorkspaceMode } from "./types.js";

/** One entry of the guest's workspace as PROBE lists it. */
export interface GuestEntry {
  /** find's %y: `f`, `d`, `l`, or another letter for other kinds. */
  type: string;
  /** Its inode changed after the last prepare ended: the guest changed it. */
  drift: boolean;
}

export interface TreeNow {
  mode: WorkspaceMode;
  /** The paths the workspace must hold (files and symlinks; directories too in full_copy). */
  paths: readonly string[];
  sigs: ReadonlyMap<string, EntrySig>;
}

export interface Changes {
  /** Paths to send, sorted so that a directory comes before what it holds. */
  send: string[];
  /** Guest paths to remove before the sent ones are put in place (no path below another). */
  remove: string[];
  /** The guest's git rewrote its index: reset it to HEAD as a whole prepare would leave it. */
  resetIndex: boolean;
}

/**
 * A change within this long before the last listing may have been followed by another in the
 * same timestamp tick, with equal lstat facts: such a path is sent again.
 */
export const RACY_MS = 2_000;

/** What must change in the guest, or why only a whole prepare will do. */
export function diffTrees(
  now: TreeNow,
  last: Pick<Manifest, "entries" | "scannedAt">,
  guest: ReadonlyMap<string, GuestEntry>,
): Changes | { fallback: string } {
  const shallow = now.mode === "shallow";
  const wanted = new Set(now.paths);
  const dirs = ancestors(now.paths);
  const send: string[] = [];
  const remove: string[] = [];
  let resetIndex = false;

  if (shallow && guest.get(".git")?.type !== "d") {
    return { fallback: "the repository in the VM is gone" };
  }
  for (const [p, entry] of guest) {
    if (shallow && isGitInternal(p)) {
      // New objects (from `git add`) are unreachable extras; a rewritten index is reset.
      if (!entry.drift || p === ".git" || p === ".git/objects" || p.startsWith(".git/objects/")) {
        continue;
      }
      if (p === ".git/index") resetIndex = true;
      else return { fallback: `git in the VM changed its repository (${p})` };
    } else if (dirs.has(p) && !wanted.has(p)) {
      if (entry.type !== "d") remove.push(p);
    } else if (!wanted.has(p)) {
      remove.push(p);
    }
  }
  for (const p of now.paths) {
    const cur = now.sigs.get(p);
    if (cur === undefined) continue;
    const there = guest.get(p);
    if (there !== undefined && there.type !== cur.type) remove.push(p);
    if (needsSending(cur, last.entries.get(p), there, last.scannedAt)) send.push(p);
  }
  return { send: send.sort(), remove: outermost(remove), resetIndex };
}

function needsSending(
  cur: EntrySig,
  prev: EntrySig | undefined,
  there: GuestEntry | undefined,
  scannedAt: number,
): boolean {
  if (there === undefined || there.type !== cur.type) return true;
  // A directory's own inode changes with every entry added or removed; those are handled one
  // by one, so only its mode matters.
  if (cur.type === "d") return prev === undefined || prev.mode !== cur.mode;
  if (there.drift || prev === undefined) return true;
  if (Math.max(prev.mtimeMs, prev.ctimeMs) >= scannedAt - RACY_MS) return true;
  return (
    prev.type !== cur.type ||
    prev.mode !== cur.mode ||
    prev.size !== cur.size ||
    prev.mtimeMs !== cur.mtimeMs ||
    prev.ctimeMs !== cur.ctimeMs ||
    prev.ino !== cur.ino
  );
}

function isGitInternal(p: string): boolean {
  return p === ".git" || p.startsWith(".git/");
}

/** Every directory above the given paths (not the top itself). */
export function ancestors(paths: readonly string[]): Set<string> {
  const dirs = new Set<string>();
  for (const p of paths) {
    for (let i = p.lastIndexOf("/"); i > 0; i = p.lastIndexOf("/", i - 1)) {
      const dir = p.slice(0, i);
      if (dirs.has(dir)) break;
      dirs.add(dir);
    }
  }
  return dirs;
}

/** The paths with none of their ancestors in the list, sorted. */
function outermost(paths: string[]): string[] {
  const set = new Set(paths);
  return [...set]
    .filter((p) => {
      for (let i = p.lastIndexOf("/"); i > 0; i = p.lastIndexOf("/", i - 1)) {
        if (set.has(p.slice(0, i))) return false;
      }
      return true;
    })
    .sort();
}
