// Private: a host commit since the last prepare, carried into a shallow guest repository as the
// objects the guest lacks. The guest holds one commit and its tree, not its history, so "what
// it lacks" is the new commit's objects less the old commit's, not a range of history.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { commitObjects, git } from "./host-git.js";

/** The guest's HEAD (its branch, or HEAD itself when detached) goes from one commit to another. */
export interface HeadMove {
  from: string;
  to: string;
}

export interface NewObjects {
  /** The pack's name in `.git/objects/pack/`, without the extension: `pack-<hash>`. */
  name: string;
  /** The pack file and its index on the host, with the objects of `to` that `from` lacks. */
  pack: string;
  idx: string;
  /** Their bytes together. */
  bytes: number;
  /** Removes their temporary directory. */
  dispose: () => Promise<void>;
}

/**
 * Packs what the guest needs to move its HEAD, or says why it cannot: the old commit may be
 * gone from the host (a rebase, then gc), and then only a whole prepare will do.
 */
export async function packNewObjects(
  top: string,
  move: HeadMove,
  signal: AbortSignal | undefined,
): Promise<NewObjects | { fallback: string }> {
  const opts = signal === undefined ? {} : { signal };
  const [had, wanted] = await Promise.all([
    commitObjects(top, move.from, opts),
    commitObjects(top, move.to, opts),
  ]);
  if (had === null) {
    return { fallback: `the last prepared commit ${move.from.slice(0, 12)} is gone from the host` };
  }
  if (wanted === null) throw new Error(`HEAD ${move.to} has no objects`);
  const present = new Set(had);
  const missing = wanted.filter((id) => !present.has(id));

  const dir = await mkdtemp(path.join(tmpdir(), "banger-pack-"));
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const base = path.join(dir, "new");
    const sha = (
      await git(top, ["pack-objects", "-q", base], { input: missing.join("\n") + "\n", ...opts })
    ).trim();
    // pack-objects writes the index beside the pack: the guest needs no git to store them.
    const [pack, idx] = [`${base}-${sha}.pack`, `${base}-${sha}.idx`];
    const bytes = (await stat(pack)).size + (await stat(idx)).size;
    return { name: `pack-${sha}`, pack, idx, bytes, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
