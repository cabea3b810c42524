import assert from "node:assert/strict";
import { test } from "node:test";
import { ancestors, diffTrees, RACY_MS, type GuestEntry, type TreeNow } from "./changes.js";
import type { EntrySig } from "./manifest.js";

const T0 = 1_700_000_000_000;
const LISTED = T0 + 60_000;

function sig(type: EntrySig["type"], extra: Partial<EntrySig> = {}): EntrySig {
  return {
    type,
    mode: type === "d" ? 0o755 : 0o644,
    size: 3,
    mtimeMs: T0,
    ctimeMs: T0,
    ino: 1,
    ...extra,
  };
}

function tree(mode: TreeNow["mode"], entries: Record<string, EntrySig>): TreeNow {
  return { mode, paths: Object.keys(entries), sigs: new Map(Object.entries(entries)) };
}

function guest(entries: Record<string, string>): Map<string, GuestEntry> {
  // "f" = file as last prepared, "f*" = file the guest changed since.
  return new Map(
    Object.entries(entries).map(([p, t]) => [p, { type: t[0] as string, drift: t.endsWith("*") }]),
  );
}

const last = (entries: Record<string, EntrySig>) => ({
  entries: new Map(Object.entries(entries)),
  scannedAt: LISTED,
});

const GIT = { ".git": "d", ".git/HEAD": "f", ".git/index": "f" };

test("nothing changed on either side: nothing to send or remove", () => {
  const now = tree("shallow", { "a/b": sig("f"), c: sig("l") });
  const out = diffTrees(
    now,
    last({ "a/b": sig("f"), c: sig("l") }),
    guest({ ...GIT, a: "d", "a/b": "f", c: "l" }),
  );
  assert.deepEqual(out, { send: [], remove: [], resetIndex: false });
});

test("host edits, new and deleted files: sent and removed", () => {
  const before = { a: sig("f"), b: sig("f"), gone: sig("f"), "d/x": sig("f") };
  const now = tree("shallow", {
    a: sig("f", { size: 4 }),
    b: sig("f", { mtimeMs: T0 + 1 }),
    n: sig("f"),
  });
  const there = guest({ ...GIT, a: "f", b: "f", gone: "f", d: "d", "d/x": "f" });
  assert.deepEqual(diffTrees(now, last(before), there), {
    send: ["a", "b", "n"],
    remove: ["d", "gone"],
    resetIndex: false,
  });
});

test("a mode, inode or kind change is a change", () => {
  const before = { a: sig("f"), b: sig("f"), c: sig("f") };
  const now = tree("shallow", {
    a: sig("f", { mode: 0o755 }),
    b: sig("f", { ino: 2 }),
    c: sig("l"),
  });
  const out = diffTrees(now, last(before), guest({ ...GIT, a: "f", b: "f", c: "f" }));
  assert.deepEqual(out, { send: ["a", "b", "c"], remove: ["c"], resetIndex: false });
});

test("guest edits and guest-made files are undone", () => {
  const before = { a: sig("f"), "d/b": sig("f") };
  const now = tree("shallow", before);
  const there = guest({ ...GIT, a: "f*", d: "d*", build: "d*", "build/o": "f*" });
  assert.deepEqual(diffTrees(now, last(before), there), {
    send: ["a", "d/b"],
    remove: ["build"],
    resetIndex: false,
  });
});

test("a directory the host needs that the guest turned into something else is removed", () => {
  const before = { "d/b": sig("f") };
  const out = diffTrees(tree("shallow", before), last(before), guest({ ...GIT, d: "l*" }));
  assert.deepEqual(out, { send: ["d/b"], remove: ["d"], resetIndex: false });
});

test("files changed just before the last listing are sent again", () => {
  const racy = sig("f", { mtimeMs: LISTED - RACY_MS + 1, ctimeMs: LISTED - RACY_MS + 1 });
  const settled = sig("f", { mtimeMs: LISTED - RACY_MS - 1, ctimeMs: LISTED - RACY_MS - 1 });
  const now = tree("shallow", { r: racy, s: settled });
  const out = diffTrees(now, last({ r: racy, s: settled }), guest({ ...GIT, r: "f", s: "f" }));
  assert.deepEqual(out, { send: ["r"], remove: [], resetIndex: false });
});

test("shallow: git in the guest resets the index, or asks for a whole prepare", () => {
  const before = { a: sig("f") };
  const now = tree("shallow", before);
  const indexOnly = guest({
    ".git": "d*",
    ".git/index": "f*",
    ".git/objects/ab": "d*",
    ".git/objects/ab/cd": "f*",
    a: "f",
  });
  assert.deepEqual(diffTrees(now, last(before), indexOnly), {
    send: [],
    remove: [],
    resetIndex: true,
  });

  const committed = guest({ ...GIT, ".git/refs/heads/main": "f*", a: "f" });
  assert.deepEqual(diffTrees(now, last(before), committed), {
    fallback: "git in the VM changed its repository (.git/refs/heads/main)",
  });
  assert.deepEqual(diffTrees(now, last(before), guest({ a: "f" })), {
    fallback: "the repository in the VM is gone",
  });
});

test("full_copy: .git is ordinary content, directories go when missing or re-moded", () => {
  const before = { ".git": sig("d"), ".git/index": sig("f"), d: sig("d"), e: sig("d") };
  const now = tree("full_copy", {
    ".git": sig("d", { mtimeMs: T0 + 5 }),
    ".git/index": sig("f", { size: 9 }),
    d: sig("d", { mode: 0o700 }),
    e: sig("d"),
    f: sig("d"),
  });
  const there = guest({ ".git": "d*", ".git/index": "f", ".git/stray": "f", d: "d", e: "d*" });
  assert.deepEqual(diffTrees(now, last(before), there), {
    send: [".git/index", "d", "f"],
    remove: [".git/stray"],
    resetIndex: false,
  });
});

test("ancestors lists every directory above the paths once", () => {
  assert.deepEqual([...ancestors(["a/b/c", "a/b/d", "e", "f/g"])].sort(), ["a", "a/b", "f"]);
});
