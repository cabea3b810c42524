import assert from "node:assert/strict";
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { listCheckoutFiles, listWholeTree } from "./file-list.js";
import { commitAll, gitIn, newRepo, put } from "./testing.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "banger-ws-list-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const AWKWARD = [
  "with space",
  "new\nline",
  "ünïcødé ✓",
  "-leading-dash",
  "--remove-files",
  "tab\there",
];

test("tracked files are listed as on disk, awkward names intact, deleted ones left out", async () => {
  const repo = newRepo(path.join(dir, "awkward"));
  for (const name of AWKWARD) put(repo, `d/${name}`, name);
  put(repo, "gone", "bye\n");
  put(repo, "renamed-from", "r\n");
  commitAll(repo, "first");
  rmSync(path.join(repo, "gone"));
  gitIn(repo, "mv", "renamed-from", "renamed-to");
  put(repo, "staged-new", "s\n");
  gitIn(repo, "add", "staged-new");

  const list = await listCheckoutFiles(repo, false);
  const expected = [...AWKWARD.map((n) => `d/${n}`), "renamed-to", "staged-new"].sort();
  assert.deepEqual([...list.paths].sort(), expected);
  assert.equal(list.files, expected.length);
  const contentBytes = AWKWARD.reduce((sum, n) => sum + Buffer.byteLength(n), 0);
  assert.equal(list.bytes, contentBytes + "r\n".length + "s\n".length);
});

test("untracked files are counted, sent only when asked; ignored files never", async () => {
  const repo = newRepo(path.join(dir, "untracked"));
  put(repo, ".gitignore", "*.log\nbuild/\n");
  commitAll(repo, "first");
  put(repo, "notes.txt", "n\n");
  put(repo, "debug.log", "ignored\n");
  put(repo, "build/out.bin", "ignored\n");

  const without = await listCheckoutFiles(repo, false);
  assert.deepEqual(without.paths, [".gitignore"]);
  assert.equal(without.untrackedLeftOut, 1);
  const withUntracked = await listCheckoutFiles(repo, true);
  assert.deepEqual(withUntracked.paths.sort(), [".gitignore", "notes.txt"]);
  assert.equal(withUntracked.untrackedLeftOut, 0);
});

test("a path behind a directory that became a symlink is skipped, never read", async () => {
  const repo = newRepo(path.join(dir, "escape"));
  put(repo, "inner/secret", "in tree\n");
  symlinkSync("inner/secret", path.join(repo, "link"));
  commitAll(repo, "first");
  put(dir, "outside/secret", "outside the tree\n");
  rmSync(path.join(repo, "inner"), { recursive: true });
  symlinkSync(path.join(dir, "outside"), path.join(repo, "inner"));

  const list = await listCheckoutFiles(repo, false);
  assert.deepEqual(list.paths, ["link"]);
  assert.deepEqual(list.skipped, ["inner/secret (behind a symlink)"]);
  assert.equal(list.bytes, 0);
});

test("submodules are refused in shallow mode with a hint for full_copy", async () => {
  const sub = newRepo(path.join(dir, "sub"));
  put(sub, "s", "s\n");
  commitAll(sub, "sub");
  const repo = newRepo(path.join(dir, "super"));
  gitIn(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", sub, "mod");
  commitAll(repo, "with submodule");

  await assert.rejects(listCheckoutFiles(repo, false), (err) => {
    assert.ok(isBangerError(err, "INVALID_ARGUMENT"), String(err));
    assert.match(err.message, /submodules \("mod"\)/);
    assert.match(err.hint ?? "", /--mode full_copy/);
    return true;
  });
});

test("the whole tree lists directories (empty ones too), files and symlinks", async () => {
  const tree = path.join(dir, "whole");
  put(tree, "a/b", "12345");
  mkdirSync(path.join(tree, "empty"));
  symlinkSync("/etc/passwd", path.join(tree, "abs-link"));
  const list = await listWholeTree(tree);
  assert.deepEqual(list.paths.sort(), ["a", "a/b", "abs-link", "empty"]);
  assert.equal(list.files, 2);
  assert.equal(list.bytes, 5);
});
