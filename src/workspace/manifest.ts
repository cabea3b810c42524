// Private: the host's record of the last prepare of a VM's workspace: what was sent, with each
// path's lstat facts, and the token the guest keeps beside the workspace. The next prepare
// compares both to send only what changed.
import type { Stats } from "node:fs";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { isErrno } from "../errors/index.js";

/** `f` file, `l` symlink, `d` directory, `o` anything else. */
export type EntryType = "f" | "l" | "d" | "o";

/** The lstat facts that change when a path's content, mode or kind changes. */
export interface EntrySig {
  type: EntryType;
  mode: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

export interface Manifest {
  /** Everything that must be equal for the guest to hold this record's tree (see manifestKey). */
  key: string;
  /** What the guest's stamp file held after the prepare. */
  token: string;
  /** When the host paths were listed (Date.now()). */
  scannedAt: number;
  entries: Map<string, EntrySig>;
}

const FORMAT = 1;
const TOKEN = /^[0-9a-f]{32}$/;

export function signature(st: Stats): EntrySig {
  const type: EntryType = st.isFile()
    ? "f"
    : st.isSymbolicLink()
      ? "l"
      : st.isDirectory()
        ? "d"
        : "o";
  return {
    type,
    mode: st.mode & 0o7777,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    ino: st.ino,
  };
}

/** A fresh token for the guest's stamp file. */
export function newToken(): string {
  return randomBytes(16).toString("hex");
}

export function isToken(text: string): boolean {
  return TOKEN.test(text);
}

/** The record at `file`, or null when there is none or it cannot be read as one. */
export async function readManifest(file: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT")) return null;
    throw err;
  }
  try {
    return decode(JSON.parse(text) as unknown);
  } catch {
    return null; // not JSON: written by something else, or cut short by a crash
  }
}

/** Writes the record through a temporary file, so a reader sees the old one or the new one. */
export async function writeManifest(file: string, manifest: Manifest): Promise<void> {
  const rows = [...manifest.entries].map(([p, s]) => [
    p,
    s.type,
    s.mode,
    s.size,
    s.mtimeMs,
    s.ctimeMs,
    s.ino,
  ]);
  const body = JSON.stringify({
    format: FORMAT,
    key: manifest.key,
    token: manifest.token,
    scannedAt: manifest.scannedAt,
    entries: rows,
  });
  const tmp = `${file}.tmp`;
  await writeFile(tmp, body, { mode: 0o600 });
  await rename(tmp, file);
}

export async function removeManifest(file: string): Promise<void> {
  await rm(file, { force: true });
}

const stored = z.object({
  format: z.literal(FORMAT),
  key: z.string(),
  token: z.string().regex(TOKEN),
  scannedAt: z.number(),
  entries: z.array(
    z.tuple([
      z.string(),
      z.enum(["f", "l", "d", "o"]),
      z.number(),
      z.number(),
      z.number(),
      z.number(),
      z.number(),
    ]),
  ),
});

function decode(raw: unknown): Manifest | null {
  const parsed = stored.safeParse(raw);
  if (!parsed.success) return null;
  const { key, token, scannedAt } = parsed.data;
  const entries = new Map<string, EntrySig>();
  for (const [p, type, mode, size, mtimeMs, ctimeMs, ino] of parsed.data.entries) {
    entries.set(p, { type, mode, size, mtimeMs, ctimeMs, ino });
  }
  return { key, token, scannedAt, entries };
}
