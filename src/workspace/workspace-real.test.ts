// Against a real OpenSSH server standing in for the guest: prepare copies host checkouts into a
// temp dir over ssh, export brings the changes back, and `git apply` must reproduce them.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import type { ProgressEvent } from "../api/progress.js";
import { isBangerError } from "../errors/index.js";
import { exportWorkspace, prepareWorkspace, type PrepareWorkspaceOptions } from "./index.js";
import { sshdSkipReason, startSshd, type SshdFixture } from "./sshd-fixture.js";
import { commitAll, gitIn, newRepo, notGitDir, put, snapshot } from "./testing.js";

const skip = await sshdSkipReason();
let fx: SshdFixture;

before(async () => {
  if (!skip) fx = await startSshd();
});
after(async () => {
  if (!skip) await fx.stop();
});

type Options = Omit<
  PrepareWorkspaceOptions,
  "target" | "report" | "mode" | "includeUntracked" | "dryRun"
> &
  Partial<Pick<PrepareWorkspaceOptions, "mode" | "includeUntracked" | "dryRun" | "signal">>;

function prepare(opts: Options, events: ProgressEvent[] = []): ReturnType<typeof prepareWorkspace> {
  return prepareWorkspace({
    target: fx.target,
    mode: "shallow",
    includeUntracked: false,
    dryRun: false,
    report: (e) => events.push(e),
    ...opts,
  });
}

const filesOnly = (lines: string[]): string[] => lines.filter((l) => !/ dir \d+$/.test(l));
const guestDir = (name: string): string => path.join(fx.dir, "guest", name);

/** Siblings of the workspace left by banger (staging or aside dirs). */
function leftovers(guestPath: string): string[] {
  const parent = path.dirname(guestPath);
  if (!existsSync(parent)) return [];
  return readdirSync(parent).filter((n) => n.startsWith(`${path.basename(guestPath)}.banger-`));
}

/** A clean clone of `repo` at `commit` with `patch` applied, as a snapshot without .git. */
function applyOnClone(repo: string, commit: string, patch: Buffer, name: string): string[] {
  const clone = path.join(fx.dir, "clones", name);
  gitIn(fx.dir, "clone", "-q", "--no-checkout", repo, clone);
  gitIn(clone, "checkout", "-q", "--detach", commit);
  if (patch.length > 0) {
    const patchFile = `${clone}.patch`;
    writeFileSync(patchFile, patch);
    gitIn(clone, "apply", "--binary", patchFile);
  }
  return snapshot(clone, notGitDir);
}

const AWKWARD = ["with space", "new\nline", "ünïcødé ✓", "-leading-dash", "--remove-files"];

/** A checkout with every kind of change on top of its commit. */
function richRepo(): { repo: string; head: string } {
  const repo = newRepo(path.join(fx.dir, "host", "rich repo"));
  put(repo, ".gitignore", "*.log\n");
  put(repo, "a.txt", "hello\n");
  put(repo, "bin.dat", Buffer.from([0, 1, 2, 255, 0, 10, 13, 0]));
  put(repo, "run.sh", "#!/bin/sh\necho hi\n", 0o755);
  put(repo, "sub/file", "sub\n");
  for (const name of AWKWARD) put(repo, `names/${name}`, `${name}\n`);
  put(repo, "big.bin", randomBytes(50 * 1024 * 1024));
  put(repo, "gone.txt", "bye\n");
  put(repo, "old-name.txt", "moving\n");
  put(repo, "staged.txt", "v1\n");
  symlinkSync("a.txt", path.join(repo, "link"));
  symlinkSync("sub", path.join(repo, "dirlink"));
  symlinkSync("../../../etc/passwd", path.join(repo, "outlink"));
  const head = commitAll(repo, "first");

  put(repo, "a.txt", "changed, not staged\n");
  put(repo, "staged.txt", "v2 staged\n");
  gitIn(repo, "add", "staged.txt");
  rmSync(path.join(repo, "gone.txt"));
  gitIn(repo, "mv", "old-name.txt", "new-name.txt");
  chmodSync(path.join(repo, "sub/file"), 0o755);
  put(repo, "notes.txt", "untracked\n");
  put(repo, "debug.log", "ignored\n");
  return { repo, head };
}

test(
  "shallow: the guest tree equals the host's, file by file, and export round-trips",
  { skip, timeout: 60_000 },
  async () => {
    const { repo, head } = richRepo();
    const guestPath = guestDir("rich");
    const events: ProgressEvent[] = [];
    const result = await prepare({ hostPath: path.join(repo, "sub"), guestPath }, events);

    assert.deepEqual(result, {
      guestPath,
      hostPath: repo,
      commit: head,
      files: 16,
      bytes: result.bytes,
    });
    const hostFiles = filesOnly(
      snapshot(repo, (p) => notGitDir(p) || p === "notes.txt" || p === "debug.log"),
    );
    assert.deepEqual(filesOnly(snapshot(guestPath, notGitDir)), hostFiles);
    assert.ok(
      events.some((e) => e.type === "note" && /^1 untracked files not sent/.test(e.message)),
    );
    assert.ok(events.some((e) => e.type === "progress" && e.step === "workspace-copy"));

    assert.equal(gitIn(guestPath, "rev-parse", "HEAD").trim(), head);
    assert.equal(gitIn(guestPath, "symbolic-ref", "HEAD").trim(), "refs/heads/main");
    assert.equal(gitIn(guestPath, "rev-parse", "--is-shallow-repository").trim(), "true");
    assert.equal(gitIn(guestPath, "config", "user.email").trim(), "tester@example.com");
    const status = gitIn(guestPath, "status", "--porcelain").split("\n").filter(Boolean).sort();
    const expected = [
      " D gone.txt",
      " D old-name.txt",
      " M a.txt",
      " M staged.txt",
      " M sub/file",
      "?? new-name.txt",
    ];
    assert.deepEqual(status, expected);
    assert.deepEqual(leftovers(guestPath), []);

    // The host's own changes come back as the first export.
    const first = await exportWorkspace({ target: fx.target, guestPath, baseCommit: head });
    assert.deepEqual(
      applyOnClone(repo, head, first.patch, "rich-1"),
      snapshot(guestPath, notGitDir),
    );

    // Then changes made in the guest, of every kind.
    put(guestPath, "a.txt", "edited in the guest\n");
    put(guestPath, "names/new\nfile", randomBytes(100_000));
    rmSync(path.join(guestPath, "bin.dat"));
    chmodSync(path.join(guestPath, "run.sh"), 0o644);
    symlinkSync("run.sh", path.join(guestPath, "newlink"));
    put(guestPath, "ignored.log", "stays out\n");
    const before = gitIn(guestPath, "status", "--porcelain");
    const index = snapshot(path.join(guestPath, ".git")).filter((l) => l.startsWith('"index"'));
    const second = await exportWorkspace({ target: fx.target, guestPath, baseCommit: head });
    assert.equal(gitIn(guestPath, "status", "--porcelain"), before);
    assert.deepEqual(
      snapshot(path.join(guestPath, ".git")).filter((l) => l.startsWith('"index"')),
      index,
    );
    rmSync(path.join(guestPath, "ignored.log"));
    assert.deepEqual(
      applyOnClone(repo, head, second.patch, "rich-2"),
      snapshot(guestPath, notGitDir),
    );
    assert.ok(second.files >= 9, `files ${second.files}`);
  },
);

test(
  "shallow: a second prepare replaces the first, with untracked files when asked",
  { skip, timeout: 60_000 },
  async () => {
    const repo = newRepo(path.join(fx.dir, "host", "again"));
    put(repo, "a", "a\n");
    put(repo, ".gitignore", "*.log\n");
    commitAll(repo, "first");
    const guestPath = guestDir("again");
    await prepare({ hostPath: repo, guestPath });
    put(guestPath, "only-in-old-guest", "x\n");

    put(repo, "notes.txt", "untracked\n");
    put(repo, "debug.log", "ignored\n");
    const result = await prepare({ hostPath: repo, guestPath, includeUntracked: true });
    assert.equal(result.files, 3);
    assert.deepEqual(
      filesOnly(snapshot(guestPath, notGitDir)),
      filesOnly(snapshot(repo, (p) => notGitDir(p) || p === "debug.log")),
    );
    assert.deepEqual(leftovers(guestPath), []);
  },
);

test(
  "full_copy: everything on disk, .git, submodules, ignored files and empty dirs",
  { skip, timeout: 60_000 },
  async () => {
    const sub = newRepo(path.join(fx.dir, "host", "lib"));
    put(sub, "lib.c", "int x;\n");
    commitAll(sub, "lib");
    const repo = newRepo(path.join(fx.dir, "host", "full"));
    put(repo, ".gitignore", "build/\n");
    put(repo, "main.c", "int main;\n");
    gitIn(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", sub, "lib");
    const head = commitAll(repo, "with submodule");
    put(repo, "build/out.o", randomBytes(1000));
    mkdirSync(path.join(repo, "empty"));
    put(repo, "main.c", "int main(void);\n");

    const guestPath = guestDir("full");
    const result = await prepare({ hostPath: repo, guestPath, mode: "full_copy" });
    assert.equal(result.commit, head);
    assert.deepEqual(snapshot(guestPath), snapshot(repo));
    assert.equal(gitIn(path.join(guestPath, "lib"), "log", "--format=%s").trim(), "lib");

    put(guestPath, "new.c", "new\n");
    const exported = await exportWorkspace({ target: fx.target, guestPath, baseCommit: head });
    const applied = applyOnClone(repo, head, exported.patch, "full");
    const expected = snapshot(
      guestPath,
      (p) => notGitDir(p) || p.startsWith("build") || p.startsWith("lib") || p === "empty",
    );
    assert.deepEqual(
      applied.filter((l) => !l.startsWith('"lib"')),
      expected,
    );
  },
);

test(
  "branch from another revision: a clean checkout of that commit on a guest-only branch",
  { skip, timeout: 60_000 },
  async () => {
    const repo = newRepo(path.join(fx.dir, "host", "branchy"));
    put(repo, "v", "1\n");
    const first = commitAll(repo, "one");
    put(repo, "v", "2\n");
    put(repo, "later", "l\n");
    commitAll(repo, "two");
    put(repo, "v", "dirty\n");

    const guestPath = guestDir("branchy");
    const events: ProgressEvent[] = [];
    const result = await prepare(
      { hostPath: repo, guestPath, branch: "try/1", from: "HEAD~1" },
      events,
    );
    assert.equal(result.commit, first);
    assert.equal(gitIn(guestPath, "symbolic-ref", "HEAD").trim(), "refs/heads/try/1");
    assert.equal(gitIn(guestPath, "status", "--porcelain"), "");
    assert.deepEqual(filesOnly(snapshot(guestPath, notGitDir)), [`"v" file 644 ${sha("1\n")}`]);
    assert.ok(
      events.some((e) => e.type === "note" && /local changes are not sent/.test(e.message)),
    );
    assert.equal(gitIn(repo, "branch", "--list", "try/1"), "");

    await assert.rejects(prepare({ hostPath: repo, guestPath, from: "HEAD" }), (err) =>
      isBangerError(err, "USAGE"),
    );
    await assert.rejects(prepare({ hostPath: repo, guestPath, branch: "-x" }), (err) =>
      isBangerError(err, "INVALID_ARGUMENT"),
    );
  },
);

test(
  "a repository without commits is sent without history and exports against the empty tree",
  { skip, timeout: 60_000 },
  async () => {
    const repo = newRepo(path.join(fx.dir, "host", "unborn"));
    put(repo, "staged", "s\n");
    gitIn(repo, "add", "staged");
    put(repo, "loose", "l\n");
    const guestPath = guestDir("unborn");
    const result = await prepare({ hostPath: repo, guestPath, includeUntracked: true });
    assert.equal(result.commit, null);
    assert.equal(gitIn(guestPath, "symbolic-ref", "HEAD").trim(), "refs/heads/main");
    assert.deepEqual(
      filesOnly(snapshot(guestPath, notGitDir)),
      filesOnly(snapshot(repo, notGitDir)),
    );

    const exported = await exportWorkspace({ target: fx.target, guestPath, baseCommit: null });
    const fresh = newRepo(path.join(fx.dir, "clones", "unborn"));
    writeFileSync(`${fresh}.patch`, exported.patch);
    gitIn(fresh, "apply", `${fresh}.patch`);
    assert.deepEqual(snapshot(fresh, notGitDir), snapshot(guestPath, notGitDir));
  },
);

test("dry run lists what would be sent and never touches the VM", { skip }, async () => {
  const repo = newRepo(path.join(fx.dir, "host", "dry"));
  put(repo, "a", "12345");
  commitAll(repo, "one");
  const guestPath = guestDir("dry");
  // Port 1 answers nothing: any attempt to reach the VM would fail the test.
  const result = await prepareWorkspace({
    target: { ...fx.target, port: 1 },
    hostPath: repo,
    guestPath,
    mode: "shallow",
    includeUntracked: false,
    dryRun: true,
    report: () => undefined,
  });
  assert.deepEqual(result.listing, ["a"]);
  assert.equal(result.bytes, 5);
  assert.equal(existsSync(guestPath), false);
});

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
