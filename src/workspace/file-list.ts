// Private: which paths of the host checkout a workspace is made of, checked so that nothing is
// read through a symlink out of the tree.
import type { Stats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { BangerError, isErrno } from "../errors/index.js";
import { git } from "./host-git.js";
import { signature, type EntrySig } from "./manifest.js";

export interface TreeFiles {
  /** Paths relative to the top, files and symlinks (and, for full_copy, directories). */
  paths: string[];
  files: number;
  bytes: number;
  /** Untracked, not-ignored files left out because they were not asked for. */
  untrackedLeftOut: number;
  /** Paths git lists that were not sent, with why (nested repositories, paths past symlinks). */
  skipped: string[];
  /** Each path's lstat facts when it was listed, to tell what changed by the next prepare. */
  sigs?: Map<string, EntrySig>;
  /** Date.now() before the first lstat, so that a change in the same clock tick is not missed. */
  scannedAt?: number;
}

const GITLINK_MODE = "160000";
const LSTAT_BATCH = 64;

/**
 * The tracked files as they are on disk (deleted ones left out) plus, with `includeUntracked`,
 * untracked files that are not ignored. INVALID_ARGUMENT for a repository with submodules.
 */
export async function listCheckoutFiles(
  top: string,
  includeUntracked: boolean,
): Promise<TreeFiles> {
  const tracked = await trackedPaths(top);
  const untracked = splitNul(await git(top, ["ls-files", "-z", "--others", "--exclude-standard"]));
  const skipped = untracked.filter((p) => p.endsWith("/")).map((p) => `${p} (nested repository)`);
  const plainUntracked = untracked.filter((p) => !p.endsWith("/"));

  const wanted = includeUntracked ? [...tracked, ...plainUntracked] : tracked;
  const out = await statPaths(top, wanted, skipped);
  return { ...out, skipped, untrackedLeftOut: includeUntracked ? 0 : plainUntracked.length };
}

async function trackedPaths(top: string): Promise<string[]> {
  const records = splitNul(await git(top, ["ls-files", "-z", "--stage"]));
  const paths = new Set<string>();
  for (const record of records) {
    const tab = record.indexOf("\t");
    const mode = record.slice(0, record.indexOf(" "));
    const file = record.slice(tab + 1);
    if (mode === GITLINK_MODE) throw submodules(top, file);
    paths.add(file);
  }
  return [...paths];
}

function submodules(top: string, file: string): BangerError {
  return new BangerError(
    "INVALID_ARGUMENT",
    `cannot prepare workspace "${top}": it has submodules ("${file}"), which shallow mode cannot send`,
    { hint: "copy the whole tree instead: add `--mode full_copy`" },
  );
}

function splitNul(text: string): string[] {
  const parts = text.split("\0");
  if (parts.at(-1) === "") parts.pop();
  for (const p of parts) checkName(p);
  return parts;
}

// Names arrive decoded as UTF-8; one that is not would reach tar changed and not be found.
function checkName(name: string): void {
  if (!name.includes("\uFFFD")) return;
  throw new BangerError(
    "INVALID_ARGUMENT",
    `cannot send file ${JSON.stringify(name)}: its name is not valid UTF-8`,
    {
      hint: "rename it, or copy the tree with `--mode full_copy`",
    },
  );
}

async function statPaths(
  top: string,
  wanted: string[],
  skipped: string[],
): Promise<Omit<TreeFiles, "untrackedLeftOut" | "skipped">> {
  const scannedAt = Date.now();
  const safeDirs = new Map<string, Promise<boolean>>();
  const paths: string[] = [];
  const sigs = new Map<string, EntrySig>();
  let bytes = 0;
  for (let i = 0; i < wanted.length; i += LSTAT_BATCH) {
    const batch = wanted.slice(i, i + LSTAT_BATCH);
    const found = await Promise.all(batch.map((p) => sendable(top, p, safeDirs)));
    found.forEach((st, j) => {
      const p = batch[j] as string;
      if (st === "past-symlink") skipped.push(`${p} (behind a symlink)`);
      if (typeof st === "string") return;
      paths.push(p);
      sigs.set(p, signature(st));
      if (st.isFile()) bytes += st.size;
    });
  }
  return { paths, files: paths.length, bytes, sigs, scannedAt };
}

/** A regular file's or symlink's lstat, or why the path is not sent. */
async function sendable(
  top: string,
  rel: string,
  safeDirs: Map<string, Promise<boolean>>,
): Promise<Stats | "absent" | "past-symlink"> {
  if (!(await parentIsRealDir(top, path.posix.dirname(rel), safeDirs))) return "past-symlink";
  try {
    const st = await lstat(path.join(top, rel));
    return st.isFile() || st.isSymbolicLink() ? st : "absent";
  } catch (err) {
    if (isErrno(err, "ENOENT") || isErrno(err, "ENOTDIR")) return "absent";
    throw err;
  }
}

// tar would read `dir/file` through `dir` if `dir` had become a symlink: out of the tree.
function parentIsRealDir(
  top: string,
  dir: string,
  cache: Map<string, Promise<boolean>>,
): Promise<boolean> {
  if (dir === "." || dir === "") return Promise.resolve(true);
  let known = cache.get(dir);
  if (known === undefined) {
    known = (async () => {
      if (!(await parentIsRealDir(top, path.posix.dirname(dir), cache))) return false;
      try {
        const st = await lstat(path.join(top, dir));
        return st.isDirectory();
      } catch (err) {
        if (isErrno(err, "ENOENT") || isErrno(err, "ENOTDIR")) return false;
        throw err;
      }
    })();
    cache.set(dir, known);
  }
  return known;
}

/** Everything under `top` as it is on disk, directories included; symlinks are not followed. */
export async function listWholeTree(top: string): Promise<TreeFiles> {
  const sigs = new Map<string, EntrySig>();
  const out: TreeFiles = {
    paths: [],
    files: 0,
    bytes: 0,
    untrackedLeftOut: 0,
    skipped: [],
    sigs,
    scannedAt: Date.now(),
  };
  await walk(top, "", out, sigs);
  return out;
}

async function walk(
  top: string,
  rel: string,
  out: TreeFiles,
  sigs: Map<string, EntrySig>,
): Promise<void> {
  const entries = await readdir(path.join(top, rel), { withFileTypes: true });
  for (const entry of entries) {
    const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
    out.paths.push(child);
    const st = await lstat(path.join(top, child));
    sigs.set(child, signature(st));
    if (st.isDirectory()) {
      await walk(top, child, out, sigs);
    } else if (st.isFile()) {
      out.files += 1;
      out.bytes += st.size;
    } else if (st.isSymbolicLink()) {
      out.files += 1;
    }
  }
}
