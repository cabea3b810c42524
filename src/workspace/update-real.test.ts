// A repeated prepare sends only what changed, against a real OpenSSH server standing in for the
// guest: host edits, guest edits and git in the guest all end with the guest tree equal to the
// host's, exactly as a whole prepare would leave it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
} from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import type { ProgressEvent } from "../api/progress.js";
import { closeSshMaster, sshExec, type SshTarget } from "../guest/index.js";
import { RACY_MS } from "./changes.js";
import { APPLY } from "./guest-scripts.js";
import { stampPath } from "./guest-path.js";
import { prepareWorkspace, type PrepareWorkspaceOptions } from "./index.js";
import { readManifest } from "./manifest.js";
import { sshdSkipReason, startSshd, type SshdFixture } from "./sshd-fixture.js";
import { commitAll, gitIn, newRepo, notGitDir, put, snapshot } from "./testing.js";

const skip = await sshdSkipReason();
let fx: SshdFixture;
let target: SshTarget;

before(async () => {
  if (skip) return;
  fx = await startSshd();
  target = { ...fx.target, controlPath: path.join(fx.dir, "mux") };
});
after(async () => {
  if (skip) return;
  await closeSshMaster(path.join(fx.dir, "mux"));
  await fx.stop();
});

interface Run {
  result: Awaited<ReturnType<typeof prepareWorkspace>>;
  notes: string[];
  steps: string[];
}

async function prepare(
  repo: string,
  guestPath: string,
  extra: Partial<PrepareWorkspaceOptions> = {},
): Promise<Run> {
  const events: ProgressEvent[] = [];
  const result = await prepareWorkspace({
    target,
    hostPath: repo,
    guestPath,
    mode: "shallow",
    includeUntracked: false,
    dryRun: false,
    manifestPath: path.join(fx.dir, `${path.basename(guestPath)}.manifest.json`),
    report: (e) => events.push(e),
    ...extra,
  });
  const notes = events.flatMap((e) => (e.type === "note" ? [e.message] : []));
  const steps = events.flatMap((e) => (e.type === "step" && e.status === "start" ? [e.step] : []));
  return { result, notes, steps };
}

const files = (dir: string): string[] =>
  snapshot(dir, notGitDir).filter((l) => !/ dir \d+$/.test(l));

function sample(name: string): { repo: string; guestPath: string } {
  const repo = newRepo(path.join(fx.dir, "host", name));
  put(repo, "a.txt", "a\n");
  put(repo, "keep/b.txt", "b\n");
  put(repo, "keep/deep/c.txt", "c\n");
  put(repo, "run.sh", "#!/bin/sh\n", 0o755);
  put(repo, "with space/ünï\ncode", "odd\n");
  for (let i = 0; i < 50; i++) put(repo, `many/f${i}`, `${i}\n`);
  symlinkSync("a.txt", path.join(repo, "link"));
  commitAll(repo, "first");
  return { repo, guestPath: path.join(fx.dir, "guest", name) };
}

// Files changed just before a prepare are sent again by the next one (their timestamps could
// hide a second change); the tests that count what is sent let that moment pass first.
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, RACY_MS + 50));

function siblings(guestPath: string): string[] {
  const base = path.basename(guestPath);
  return readdirSync(path.dirname(guestPath)).filter((n) => n.startsWith(`${base}.banger-`));
}

test(
  "a repeated prepare sends only the host's changes and the guest equals the host",
  { skip, timeout: 60_000 },
  async () => {
    const { repo, guestPath } = sample("host-edits");
    await settle();
    const first = await prepare(repo, guestPath);
    assert.equal(first.result.update, undefined);
    assert.ok(existsSync(stampPath(guestPath)));

    put(repo, "a.txt", "a, edited on the host\n");
    put(repo, "keep/deep/c.txt", "c, longer now\n");
    chmodSync(path.join(repo, "run.sh"), 0o644);
    rmSync(path.join(repo, "keep/b.txt"));
    rmSync(path.join(repo, "many"), { recursive: true });
    unlinkSync(path.join(repo, "link"));
    put(repo, "link", "a file where a symlink was\n");
    put(repo, "-dash", "new\n");
    gitIn(repo, "add", "--", "-dash");
    const second = await prepare(repo, guestPath);

    assert.deepEqual(files(guestPath), files(repo));
    assert.ok(second.steps.includes("workspace-update"), second.steps.join(","));
    assert.ok(!second.steps.includes("workspace-copy"));
    // Sent: a.txt, c.txt, run.sh, link, -dash. Removed: keep/b.txt, the emptied directory
    // whole, and the symlink that a file replaces.
    assert.equal(second.result.update?.sent, 5);
    assert.equal(second.result.update?.removed, 3);
    assert.ok(!existsSync(path.join(guestPath, "many")));
    assert.deepEqual(siblings(guestPath), []);
    const status = gitIn(guestPath, "status", "--porcelain").split("\n").filter(Boolean).sort();
    assert.deepEqual(
      status,
      gitIn(repo, "status", "--porcelain", "--untracked-files=no")
        .split("\n")
        .filter(Boolean)
        .map((l) => (l.startsWith("A ") ? `?? ${l.slice(3)}` : l.replace(/^D /, " D")))
        .sort(),
    );

    // The files just edited are sent once more (racy timestamps), then no more.
    const racy = await prepare(repo, guestPath);
    assert.equal(racy.result.update?.sent, 5);
    await settle();
    await prepare(repo, guestPath);
    const third = await prepare(repo, guestPath);
    assert.equal(third.result.update?.sent, 0);
    assert.equal(third.result.update?.removed, 0);
    assert.deepEqual(files(guestPath), files(repo));

    // All of it went over one shared connection, which closes on request.
    const mux = target.controlPath as string;
    assert.ok(existsSync(mux));
    await closeSshMaster(mux);
    assert.ok(!existsSync(mux));
  },
);

test(
  "changes made in the guest since the last prepare are put back as the host has them",
  { skip, timeout: 60_000 },
  async () => {
    const { repo, guestPath } = sample("guest-edits");
    await prepare(repo, guestPath);

    put(guestPath, "a.txt", "A\n"); // same size as the host's file
    rmSync(path.join(guestPath, "keep/deep/c.txt"));
    put(guestPath, "build/out.o", "made by a build\n");
    chmodSync(path.join(guestPath, "run.sh"), 0o600);
    rmSync(path.join(guestPath, "keep/deep"), { recursive: true });
    symlinkSync("/etc", path.join(guestPath, "keep/deep"));
    const again = await prepare(repo, guestPath);

    assert.ok(again.result.update, again.notes.join("; "));
    assert.deepEqual(snapshot(guestPath, notGitDir), snapshot(repo, notGitDir));
    assert.equal(again.result.update?.removed, 2); // build/, and the symlink at keep/deep
  },
);

test(
  "git in the guest: a refreshed index is reset, a commit means a whole prepare",
  { skip, timeout: 60_000 },
  async () => {
    const { repo, guestPath } = sample("guest-git");
    await prepare(repo, guestPath);
    put(guestPath, "a.txt", "staged in the guest\n");
    gitIn(guestPath, "add", "a.txt");
    put(repo, "keep/b.txt", "b2\n");
    const reset = await prepare(repo, guestPath);
    assert.ok(reset.result.update, reset.notes.join("; "));
    assert.equal(gitIn(guestPath, "diff", "--cached", "--name-only"), "");
    assert.deepEqual(files(guestPath), files(repo));

    put(guestPath, "new.txt", "committed in the guest\n");
    gitIn(guestPath, "add", "new.txt");
    gitIn(guestPath, "commit", "-q", "-m", "guest commit");
    const whole = await prepare(repo, guestPath);
    assert.equal(whole.result.update, undefined);
    assert.ok(
      whole.notes.some((n) => /^sending the whole tree: git in the VM changed/.test(n)),
      whole.notes.join("; "),
    );
    assert.equal(
      gitIn(guestPath, "rev-parse", "HEAD").trim(),
      gitIn(repo, "rev-parse", "HEAD").trim(),
    );
    assert.deepEqual(files(guestPath), files(repo));
  },
);

/** The guest repository as a whole prepare of `repo` leaves it: HEAD, history, index, tree. */
function repoState(dir: string): string[] {
  return [
    gitIn(dir, "rev-parse", "HEAD", "--symbolic-full-name", "HEAD"),
    gitIn(dir, "log", "--format=%H %s"),
    gitIn(dir, "ls-files", "--stage"),
    gitIn(dir, "ls-tree", "-r", "HEAD"),
  ];
}

test(
  "a host commit on the same branch moves the guest's HEAD in an update, history as shallow",
  { skip, timeout: 60_000 },
  async () => {
    const { repo, guestPath } = sample("host-commit");
    put(repo, "a.txt", "before the first prepare\n");
    commitAll(repo, "one before"); // so the guest's first commit lacks its parent
    await prepare(repo, guestPath);
    const whole = path.join(fx.dir, "guest", "host-commit-whole");

    put(repo, "a.txt", "committed\n");
    put(repo, "new/dir/file.txt", "new in the commit\n");
    rmSync(path.join(repo, "keep/b.txt"));
    const second = commitAll(repo, "second");
    put(repo, "run.sh", "#!/bin/sh\necho edited, not committed\n", 0o755);
    const moved = await prepare(repo, guestPath);
    assert.equal(moved.result.update?.commit, second, moved.notes.join("; "));
    assert.equal(moved.result.commit, second);
    assert.deepEqual(files(guestPath), files(repo));
    // The same as a whole prepare of the same checkout: one shallow commit, index at HEAD.
    await prepare(repo, whole);
    assert.deepEqual(repoState(guestPath), repoState(whole));
    assert.equal(gitIn(guestPath, "log", "--format=%H").trim(), second);
    assert.equal(gitIn(guestPath, "status", "--porcelain"), " M run.sh\n");
    // The commits the reflog still names keep their shallow mark: git can walk all it keeps, as
    // gc's repack does (gc itself would change the guest's .git, and the next prepare with it).
    gitIn(guestPath, "fsck", "--no-dangling");
    gitIn(guestPath, "rev-list", "--objects", "--all", "--reflog");

    // An amended commit too; and the guest's .git, changed by the update, is no drift after.
    put(repo, "a.txt", "amended\n");
    gitIn(repo, "commit", "-q", "-a", "--amend", "-m", "second, amended");
    const amended = gitIn(repo, "rev-parse", "HEAD").trim();
    const again = await prepare(repo, guestPath);
    assert.equal(again.result.update?.commit, amended, again.notes.join("; "));
    assert.deepEqual(files(guestPath), files(repo));
    await settle();
    await prepare(repo, guestPath);
    const still = await prepare(repo, guestPath);
    assert.ok(still.result.update, still.notes.join("; "));
    assert.equal(still.result.update.sent, 0);
    assert.equal(still.result.update.commit, undefined);
    assert.equal(gitIn(guestPath, "rev-parse", "HEAD").trim(), amended);

    // A commit the host no longer has (reset, then gc) leaves only a whole prepare.
    const guestHead = amended;
    gitIn(repo, "reset", "-q", "--hard", "HEAD~1");
    put(repo, "a.txt", "rewritten\n");
    commitAll(repo, "third");
    gitIn(repo, "reflog", "expire", "--expire=now", "--all");
    gitIn(repo, "gc", "-q", "--prune=now");
    const gone = await prepare(repo, guestPath);
    assert.equal(gone.result.update, undefined);
    const note = `sending the whole tree: the last prepared commit ${guestHead.slice(0, 12)} is gone from the host`;
    assert.ok(gone.notes.includes(note), gone.notes.join("; "));
    assert.deepEqual(files(guestPath), files(repo));
    assert.equal(gitIn(guestPath, "rev-parse", "HEAD"), gitIn(repo, "rev-parse", "HEAD"));
  },
);

test(
  "a host commit moves a guest-only --branch, and a detached HEAD stays detached",
  { skip, timeout: 60_000 },
  async () => {
    const { repo, guestPath } = sample("head-kinds");
    const topic = { branch: "sandbox" };
    await prepare(repo, guestPath, topic);
    put(repo, "a.txt", "on main\n");
    const second = commitAll(repo, "second");
    const onBranch = await prepare(repo, guestPath, topic);
    assert.equal(onBranch.result.update?.commit, second, onBranch.notes.join("; "));
    assert.equal(gitIn(guestPath, "symbolic-ref", "HEAD"), "refs/heads/sandbox\n");
    assert.equal(gitIn(guestPath, "rev-parse", "sandbox").trim(), second);
    assert.equal(gitIn(guestPath, "status", "--porcelain"), "");

    gitIn(repo, "checkout", "-q", "--detach");
    await prepare(repo, guestPath); // another record (no --branch, detached): a whole prepare
    put(repo, "a.txt", "detached\n");
    const third = commitAll(repo, "third");
    const detached = await prepare(repo, guestPath);
    assert.equal(detached.result.update?.commit, third, detached.notes.join("; "));
    assert.equal(gitIn(guestPath, "rev-parse", "HEAD").trim(), third);
    assert.throws(() => gitIn(guestPath, "symbolic-ref", "-q", "HEAD"));
    assert.equal(gitIn(guestPath, "status", "--porcelain"), "");
    assert.deepEqual(files(guestPath), files(repo));
  },
);

test(
  "another branch, other options or a lost stamp send the whole tree, saying why",
  { skip, timeout: 60_000 },
  async () => {
    const { repo, guestPath } = sample("fallbacks");
    await prepare(repo, guestPath);

    gitIn(repo, "checkout", "-q", "-b", "topic");
    const moved = await prepare(repo, guestPath);
    assert.equal(moved.result.update, undefined);
    assert.ok(
      moved.notes.some((n) => /the checked-out branch differs/.test(n)),
      moved.notes.join("; "),
    );
    assert.equal(gitIn(guestPath, "symbolic-ref", "HEAD"), "refs/heads/topic\n");
    assert.deepEqual(files(guestPath), files(repo));

    const untracked = await prepare(repo, guestPath, { includeUntracked: true });
    assert.ok(untracked.notes.some((n) => /--include-untracked differs/.test(n)));

    rmSync(stampPath(guestPath));
    const lost = await prepare(repo, guestPath, { includeUntracked: true });
    assert.ok(
      lost.notes.some((n) => /no record of the last prepare/.test(n)),
      lost.notes.join(";"),
    );
    assert.deepEqual(files(guestPath), files(repo));

    // --fresh: the whole tree although the record would allow an update, and the record that
    // follows still allows the next one.
    put(repo, "a.txt", "edited after the fallbacks\n");
    const fresh = await prepare(repo, guestPath, { includeUntracked: true, fresh: true });
    assert.equal(fresh.result.update, undefined);
    assert.ok(fresh.steps.includes("workspace-stage"), fresh.steps.join(","));
    assert.deepEqual(files(guestPath), files(repo));
    put(repo, "a.txt", "edited once more\n");
    const next = await prepare(repo, guestPath, { includeUntracked: true });
    assert.ok(next.result.update !== undefined, next.notes.join(";"));
    assert.deepEqual(files(guestPath), files(repo));
  },
);

test(
  "full_copy: .git and directory modes follow the host through updates",
  { skip, timeout: 60_000 },
  async () => {
    const { repo, guestPath } = sample("full");
    mkdirSync(path.join(repo, "empty"));
    const opts = { mode: "full_copy" as const };
    await settle();
    await prepare(repo, guestPath, opts);
    put(repo, "a.txt", "edited\n");
    gitIn(repo, "add", "a.txt"); // the host's .git/index changes too
    chmodSync(path.join(repo, "keep"), 0o700);
    mkdirSync(path.join(repo, "empty2"));
    rmSync(path.join(repo, "empty"), { recursive: true });
    const again = await prepare(repo, guestPath, opts);
    assert.ok(again.result.update, again.notes.join("; "));
    assert.deepEqual(snapshot(guestPath), snapshot(repo));
    assert.equal(gitIn(guestPath, "diff", "--cached", "--name-only").trim(), "a.txt");
  },
);

test(
  "full_copy: a host commit is only more changed files, and the guest keeps the git identity",
  { skip, timeout: 60_000 },
  async () => {
    const { repo, guestPath } = sample("full-commit");
    // The identity comes from a file outside the tree, as a global config would give it: the
    // guest's .git/config gets it written in, and an update that sends .git/config again
    // must not lose it.
    gitIn(repo, "config", "--unset", "user.name");
    gitIn(repo, "config", "--unset", "user.email");
    const identity = "[user]\n\tname = Far Away\n\temail = far@example.com\n";
    put(path.join(fx.dir, "host"), "identity.cfg", identity);
    // Relative to the host's .git: the guest has no such file beside its own.
    gitIn(repo, "config", "include.path", "../../identity.cfg");
    const opts = { mode: "full_copy" as const };
    await settle();
    await prepare(repo, guestPath, opts);
    assert.equal(gitIn(guestPath, "config", "--get", "user.name"), "Far Away\n");

    put(repo, "a.txt", "committed\n");
    const head = commitAll(repo, "second");
    gitIn(repo, "config", "core.banger-test", "changed"); // .git/config changes on the host
    const again = await prepare(repo, guestPath, opts);
    assert.ok(again.result.update, again.notes.join("; "));
    assert.equal(again.result.commit, head);
    assert.equal(gitIn(guestPath, "rev-parse", "HEAD").trim(), head);
    assert.equal(gitIn(guestPath, "status", "--porcelain"), "");
    assert.equal(gitIn(guestPath, "config", "--get", "core.banger-test"), "changed\n");
    assert.equal(gitIn(guestPath, "config", "--get", "user.name"), "Far Away\n");
    assert.equal(gitIn(guestPath, "config", "--get", "user.email"), "far@example.com\n");
    assert.deepEqual(snapshot(guestPath, notGitDir), snapshot(repo, notGitDir));
  },
);

test(
  "an update whose stream ends early changes nothing in the workspace",
  { skip, timeout: 60_000 },
  async () => {
    const { repo, guestPath } = sample("cut");
    await prepare(repo, guestPath);
    const before = snapshot(guestPath);
    const manifest = await readManifest(path.join(fx.dir, "cut.manifest.json"));
    assert.ok(manifest);
    // A tar with a removal list and a file, but not the end mark: as if the host went away.
    const stage = path.join(fx.dir, "tar-stage");
    put(stage, "banger/remove", "a.txt\0");
    put(stage, "banger/files/keep/b.txt", "would replace b\n");
    const tarball = execFileSync("tar", ["-C", stage, "-cf", "-", "banger"]);
    const exit = await sshExec(
      target,
      [
        "sh",
        "-c",
        'script=$1; shift; base64 -d | sh -c "$script" banger-workspace "$@"',
        "outer",
        APPLY,
        guestPath,
        `${guestPath}.banger-tmp-cut`,
        stampPath(guestPath),
        "f".repeat(32),
        "",
      ],
      { input: tarball.toString("base64") },
    );
    assert.equal(exit.code, 1);
    assert.match(exit.stderr, /the update arrived incomplete/);
    assert.deepEqual(snapshot(guestPath), before);
    assert.deepEqual(siblings(guestPath), []);
  },
);
