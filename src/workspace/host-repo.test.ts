import assert from "node:assert/strict";
import { chown, lchown, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { resolveHostRepo, resolveRevision } from "./host-repo.js";
import { commitAll, gitIn, newRepo, put } from "./testing.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "banger-ws-repo-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function invalid(pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isBangerError(err, "INVALID_ARGUMENT"), String(err));
    assert.match(err.message, pattern);
    return true;
  };
}

test("a path inside a checkout resolves to its top, HEAD, branch and identity", async () => {
  const repo = newRepo(path.join(dir, "one"));
  put(repo, "sub/file", "x\n");
  const head = commitAll(repo, "first");
  const found = await resolveHostRepo(path.join(repo, "sub", "file"));
  assert.deepEqual(found, {
    top: repo,
    head,
    headRef: "refs/heads/main",
    userName: "Tester",
    userEmail: "tester@example.com",
    gitDirInTree: true,
  });
});

test("a detached HEAD has no ref, a repository without commits no head", async () => {
  const repo = newRepo(path.join(dir, "two"));
  assert.equal((await resolveHostRepo(repo)).head, null);
  put(repo, "a", "a\n");
  const head = commitAll(repo, "first");
  gitIn(repo, "checkout", "-q", "--detach");
  assert.deepEqual(await resolveHostRepo(repo).then((r) => [r.head, r.headRef]), [head, null]);
});

test("a missing path, a plain directory, a bare repository and .git itself are refused", async () => {
  await assert.rejects(resolveHostRepo(path.join(dir, "nope")), invalid(/does not exist/));
  put(dir, "plain/file", "x");
  await assert.rejects(
    resolveHostRepo(path.join(dir, "plain")),
    invalid(/not inside a git work tree/),
  );
  gitIn(dir, "init", "-q", "--bare", "bare.git");
  await assert.rejects(resolveHostRepo(path.join(dir, "bare.git")), invalid(/bare repository/));
  const repo = newRepo(path.join(dir, "three"));
  await assert.rejects(resolveHostRepo(path.join(repo, ".git")), invalid(/inside a \.git/));
});

test("revisions resolve to commits; an option-like or unknown one is refused", async () => {
  const repo = newRepo(path.join(dir, "four"));
  put(repo, "a", "a\n");
  const head = commitAll(repo, "first");
  assert.equal(await resolveRevision(repo, "main"), head);
  await assert.rejects(resolveRevision(repo, "--all"), invalid(/names no commit/));
  await assert.rejects(resolveRevision(repo, "nothing"), invalid(/names no commit/));
});

test("a checkout owned by another user is read (the daemon runs as root)", async (t) => {
  if (process.getuid?.() !== 0) return t.skip("needs root to hand the checkout to nobody");
  const repo = newRepo(path.join(dir, "theirs"));
  put(repo, "a", "a\n");
  const head = commitAll(repo, "first");
  await chownTree(repo, 65534, 65534);
  assert.equal((await resolveHostRepo(repo)).head, head);
});

async function chownTree(root: string, uid: number, gid: number): Promise<void> {
  await chown(root, uid, gid);
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    await lchown(path.join(entry.parentPath, entry.name), uid, gid);
  }
}
