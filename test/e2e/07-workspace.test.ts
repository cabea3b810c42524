import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { banger, cleanup, inVm, list, ok, show, STATE_DIR, uniqueName } from "./harness.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "banger-ws-e2e-"));
const names: string[] = [];
let vm = "";
after(async () => {
  await cleanup(...names);
  rmSync(tmp, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-C", cwd, ...args], {
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "T",
      GIT_AUTHOR_EMAIL: "t@e",
      GIT_COMMITTER_NAME: "T",
      GIT_COMMITTER_EMAIL: "t@e",
    },
  });
}

/** A repository with every kind of name, mode and change the issue lists. */
function makeRepo(name: string): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir);
  git(dir, "init", "-q", "-b", "main");
  git(dir, "config", "user.name", "Host User");
  git(dir, "config", "user.email", "host@example.test");
  writeFileSync(path.join(dir, "with space.txt"), "spaces\n");
  writeFileSync(path.join(dir, "new\nline.txt"), "newline\n");
  writeFileSync(path.join(dir, "ünïcode.txt"), "unicode\n");
  writeFileSync(path.join(dir, "-dash.txt"), "dash\n");
  writeFileSync(path.join(dir, "run.sh"), "#!/bin/sh\necho ran\n");
  chmodSync(path.join(dir, "run.sh"), 0o755);
  writeFileSync(path.join(dir, "binary.bin"), Buffer.from([0, 1, 2, 255, 254, 0, 10, 13]));
  const big = Buffer.alloc(50 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
  writeFileSync(path.join(dir, "big.dat"), big);
  symlinkSync("with space.txt", path.join(dir, "link"));
  writeFileSync(path.join(dir, "gone.txt"), "to delete\n");
  writeFileSync(path.join(dir, "old-name.txt"), "renamed\n");
  writeFileSync(path.join(dir, ".gitignore"), "ignored.log\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "base");
  // Working-tree state on top of the commit.
  writeFileSync(path.join(dir, "with space.txt"), "modified\n");
  writeFileSync(path.join(dir, "staged.txt"), "staged\n");
  git(dir, "add", "staged.txt");
  rmSync(path.join(dir, "gone.txt"));
  git(dir, "mv", "old-name.txt", "new-name.txt");
  writeFileSync(path.join(dir, "untracked.txt"), "untracked\n");
  writeFileSync(path.join(dir, "ignored.log"), "ignored\n");
  return dir;
}

/** path → "type mode size-or-target sha" for every entry under dir, except the skipped names. */
function hostTree(dir: string, skip: Set<string>): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(dir, rel))) {
      const p = rel ? `${rel}/${entry}` : entry;
      if (skip.has(p)) continue;
      const st = lstatSync(path.join(dir, p));
      const mode = (st.mode & 0o777).toString(8);
      if (st.isSymbolicLink()) out.set(p, `l ${readlinkSync(path.join(dir, p))}`);
      else if (st.isDirectory()) {
        out.set(p, `d`);
        walk(p);
      } else {
        const sha = createHash("sha256")
          .update(readFileSync(path.join(dir, p)))
          .digest("hex");
        out.set(p, `f ${mode} ${sha}`);
      }
    }
  };
  walk("");
  return out;
}

/** The same listing computed in the guest. */
async function guestTree(guestDir: string, skip: Set<string>): Promise<Map<string, string>> {
  const script = `cd "$1" && find . -mindepth 1 -printf '%y %m %P\\0' | sort -z`;
  const r = await inVm(vm, ["bash", "-c", script, "sh", guestDir]);
  assert.equal(r.code, 0, r.stderr);
  const out = new Map<string, string>();
  const files: string[] = [];
  for (const rec of r.stdout.split("\0").filter(Boolean)) {
    const [type, mode, ...rest] = rec.split(" ");
    const p = rest.join(" ");
    if ([...skip].some((s) => p === s || p.startsWith(`${s}/`))) continue;
    if (type === "l") out.set(p, "l");
    else if (type === "d") out.set(p, "d");
    else {
      out.set(p, `f ${mode}`);
      files.push(p);
    }
  }
  // Targets and hashes in one more round trip, NUL-separated so any name survives.
  const detail = await inVm(vm, [
    "bash",
    "-c",
    'cd "$1" && shift && for p in "$@"; do if [ -L "$p" ]; then printf "%s\\0l %s\\0" "$p" "$(readlink "$p")"; else printf "%s\\0%s\\0" "$p" "$(sha256sum < "$p" | cut -d" " -f1)"; fi; done',
    "sh",
    guestDir,
    ...[...out.keys()].filter((k) => out.get(k) !== "d"),
  ]);
  const parts = detail.stdout.split("\0");
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const p = parts[i]!;
    const v = parts[i + 1]!;
    out.set(p, v.startsWith("l ") ? v : `${out.get(p)} ${v}`);
  }
  return out;
}

before(async () => {
  vm = uniqueName("ws");
  names.push(vm);
  await ok(["vm", "run", "-d", "--name", vm]);
});

test(
  "vm run <path> -- cmd runs in /root/<repo> and passes the exit status through",
  { timeout: 600_000 },
  async () => {
    const repo = makeRepo("status");
    const name = uniqueName("wsrun");
    names.push(name);
    const r = await banger([
      "vm",
      "run",
      "--rm",
      "--name",
      name,
      repo,
      "--",
      "sh",
      "-c",
      "pwd; exit 3",
    ]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, "/root/status\n");
  },
);

test(
  "shallow prepare: the guest tree equals the host's working tree, file by file",
  { timeout: 600_000 },
  async () => {
    const repo = makeRepo("shallow");
    const r = await banger(["vm", "workspace", "prepare", vm, repo]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /1 untracked/i);
    const skip = new Set([".git", "untracked.txt", "ignored.log"]);
    assert.deepEqual(await guestTree("/root/shallow", skip), hostTree(repo, skip));

    const status = await banger(["vm", "exec", vm, "--", "git", "status", "--porcelain"]);
    assert.match(status.stdout, /M "?with space.txt/);
    const who = await banger(["vm", "exec", vm, "--", "git", "config", "user.email"]);
    assert.equal(who.stdout, "host@example.test\n");
    assert.match(await ok(["vm", "list"]), /\/root\/shallow/);
  },
);

test(
  "export then git apply on a fresh clone reproduces the guest tree; the guest repo is untouched",
  { timeout: 600_000 },
  async () => {
    const repo = path.join(tmp, "shallow");
    const edit = await banger([
      "vm",
      "exec",
      vm,
      "--",
      "sh",
      "-c",
      "echo guest > guest-new.txt && echo more >> run.sh && rm -- -dash.txt",
    ]);
    assert.equal(edit.code, 0, edit.stderr);
    const before = (await banger(["vm", "exec", vm, "--", "git", "status", "--porcelain"])).stdout;

    const patch = path.join(tmp, "work.patch");
    await ok(["vm", "workspace", "export", vm, "-o", patch]);
    assert.equal(
      (await banger(["vm", "exec", vm, "--", "git", "status", "--porcelain"])).stdout,
      before,
    );

    const clone = path.join(tmp, "clone");
    execFileSync("git", ["clone", "-q", repo, clone]);
    git(clone, "apply", patch);
    const skip = new Set([".git", "untracked.txt", "ignored.log"]);
    assert.deepEqual(hostTree(clone, skip), await guestTree("/root/shallow", skip));
  },
);

test(
  "--include-untracked sends untracked files but never ignored ones",
  { timeout: 300_000 },
  async () => {
    const repo = path.join(tmp, "shallow");
    await ok(["vm", "workspace", "prepare", vm, repo, "--include-untracked"]);
    const has = async (p: string): Promise<number> =>
      (await inVm(vm, ["test", "-e", `/root/shallow/${p}`])).code;
    assert.equal(await has("untracked.txt"), 0);
    assert.notEqual(await has("ignored.log"), 0);
  },
);

test(
  "a repeated prepare sends only what changed, on both sides, and the trees stay equal",
  { timeout: 600_000 },
  async () => {
    const repo = path.join(tmp, "shallow");
    const flags = ["--include-untracked"];
    // Make the last prepare's record current (the export test changed the guest since).
    await ok(["vm", "workspace", "prepare", vm, repo, ...flags]);
    writeFileSync(path.join(repo, "with space.txt"), "modified again\n");
    rmSync(path.join(repo, "binary.bin"));
    writeFileSync(path.join(repo, "untracked.txt"), "untracked, edited\n");
    writeFileSync(path.join(repo, "also new.txt"), "new\n");
    chmodSync(path.join(repo, "run.sh"), 0o644);
    const guestEdit = await banger([
      "vm",
      "exec",
      vm,
      "--",
      "sh",
      "-c",
      "echo guest > made-in-guest.txt && echo x >> new-name.txt && git status >/dev/null",
    ]);
    assert.equal(guestEdit.code, 0, guestEdit.stderr);

    const r = await banger(["vm", "workspace", "prepare", vm, repo, ...flags]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /sending the whole tree/);
    // Host: with space, untracked, also new, run.sh, plus new-name.txt put back from the guest.
    assert.match(r.stdout, /updated: 5 sent, \d+ bytes, 2 removed/);
    const skip = new Set([".git", "ignored.log"]);
    assert.deepEqual(await guestTree("/root/shallow", skip), hostTree(repo, skip));
    const guestStatus = await banger(["vm", "exec", vm, "--", "git", "status", "--porcelain"]);
    const hostStatus = git(repo, "status", "--porcelain");
    // The guest's index is HEAD: what the host has staged shows as unstaged (or untracked) there.
    const unstaged = (text: string): string[] =>
      text
        .split("\n")
        .filter(Boolean)
        .map((l) => l.slice(3).replace(/^.* -> /, ""))
        .sort();
    assert.deepEqual(
      unstaged(guestStatus.stdout),
      unstaged(hostStatus).concat("old-name.txt").sort(),
    );

    // A host commit on the same branch is an update too: the guest's HEAD follows it.
    git(repo, "add", "-A");
    git(repo, "commit", "-qm", "host moves on");
    writeFileSync(path.join(repo, "after commit.txt"), "dirty again\n");
    const c = await banger(["vm", "workspace", "prepare", vm, repo, ...flags]);
    assert.equal(c.code, 0, c.stderr);
    assert.doesNotMatch(c.stderr, /sending the whole tree/);
    const head = git(repo, "rev-parse", "HEAD").trim();
    assert.match(c.stdout, new RegExp(`HEAD moved to ${head.slice(0, 12)}`));
    const guestHead = await banger(["vm", "exec", vm, "--", "git", "rev-parse", "HEAD"]);
    assert.equal(guestHead.stdout.trim(), head);
    assert.deepEqual(await guestTree("/root/shallow", skip), hostTree(repo, skip));
    const after = await banger(["vm", "exec", vm, "--", "git", "status", "--porcelain"]);
    assert.equal(after.stdout, git(repo, "status", "--porcelain"));
  },
);

test(
  "a guest disk that fills up: NO_SPACE naming the guest path and the free space, nothing lost",
  { timeout: 600_000 },
  async () => {
    const mounted = await inVm(vm, [
      "sh",
      "-c",
      "mkdir -p /mnt/small && mount -t tmpfs -o size=1m tmpfs /mnt/small",
    ]);
    assert.equal(mounted.code, 0, mounted.stderr);
    const repo = path.join(tmp, "tiny");
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    writeFileSync(path.join(repo, "a.txt"), "a\n");
    git(repo, "add", "-A");
    git(repo, "commit", "-qm", "tiny");
    const guestPath = "/mnt/small/tiny";
    await ok(["vm", "workspace", "prepare", vm, repo, "--guest-path", guestPath]);
    const before = await guestTree(guestPath, new Set());

    // A few hundred one-byte files: the size estimate fits, the 4 KiB pages they take do not.
    for (let i = 0; i < 300; i++) writeFileSync(path.join(repo, `f${i}`), "x");
    git(repo, "add", "-A");
    const r = await banger(["vm", "workspace", "prepare", vm, repo, "--guest-path", guestPath]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\/mnt\/small\/tiny/);
    assert.match(
      r.stderr,
      /the disk filled up \(\d+\.\d MiB were free\); the previous workspace is intact/,
    );
    assert.match(r.stderr, /sending the whole tree: most files changed/);
    assert.deepEqual(await guestTree(guestPath, new Set()), before);
    const left = async (): Promise<string> =>
      (await inVm(vm, ["sh", "-c", "ls -A /mnt/small"])).stdout;
    assert.equal(await left(), ".tiny.banger-stamp\ntiny\n");

    // The same for an update of a few files, on a disk left with 64 KiB.
    for (let i = 0; i < 300; i++) rmSync(path.join(repo, `f${i}`));
    for (let i = 0; i < 30; i++) writeFileSync(path.join(repo, `g${i}`), "y");
    git(repo, "add", "-A");
    const fill =
      "dd if=/dev/zero of=/mnt/small/filler bs=4k 2>/dev/null; truncate -s -64K /mnt/small/filler";
    await inVm(vm, ["sh", "-c", fill]);
    const u = await banger(["vm", "workspace", "prepare", vm, repo, "--guest-path", guestPath]);
    assert.equal(u.code, 1, u.stderr);
    assert.doesNotMatch(u.stderr, /sending the whole tree/);
    assert.match(
      u.stderr,
      /"\/mnt\/small\/tiny".*the disk filled up \(0\.\d MiB were free\); the previous workspace is intact/,
    );
    assert.deepEqual(await guestTree(guestPath, new Set()), before);
    assert.equal(await left(), ".tiny.banger-stamp\nfiller\ntiny\n");
    await inVm(vm, ["umount", "/mnt/small"]);
  },
);

test(
  "full_copy sends the tree on disk with .git, empty dirs included; --dry-run touches nothing",
  { timeout: 600_000 },
  async () => {
    const repo = makeRepo("full");
    mkdirSync(path.join(repo, "empty-dir"));
    const dry = await banger([
      "vm",
      "workspace",
      "prepare",
      vm,
      repo,
      "--mode",
      "full_copy",
      "--dry-run",
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /files, \d+ bytes would be sent to \/root\/full/);
    const absent = await inVm(vm, ["test", "-e", "/root/full"]);
    assert.notEqual(absent.code, 0, "a dry run touches nothing");

    await ok(["vm", "workspace", "prepare", vm, repo, "--mode", "full_copy"]);
    const guest = await guestTree("/root/full", new Set([".git/index", ".git/logs"]));
    const host = hostTree(repo, new Set([".git/index", ".git/logs"]));
    assert.deepEqual(guest, host);

    // The host moves on: vm exec still runs, and says the workspace is behind.
    git(repo, "commit", "-q", "--allow-empty", "-m", "later");
    const r = await banger(["vm", "exec", vm, "--", "true"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /HEAD moved since the last prepare/);
  },
);

test(
  "bad paths exit 2 before any VM is made; a stopped VM gets the start hint",
  { timeout: 300_000 },
  async () => {
    const before = (await list()).length;
    const notGit = path.join(tmp, "plain");
    mkdirSync(notGit);
    const bare = path.join(tmp, "bare.git");
    execFileSync("git", ["init", "-q", "--bare", bare]);
    for (const bad of [path.join(tmp, "missing"), notGit, bare]) {
      const r = await banger(["vm", "run", "--rm", bad, "--", "true"]);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(path.basename(bad)));
    }
    assert.equal((await list()).length, before, "no VM was created");

    const sub = makeRepo("withsub");
    execFileSync("git", [
      "-C",
      sub,
      "-c",
      "protocol.file.allow=always",
      "submodule",
      "add",
      "-q",
      path.join(tmp, "shallow"),
      "dep",
    ]);
    const r = await banger(["vm", "workspace", "prepare", vm, sub]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--mode full_copy/);

    const { id } = await show(vm);
    const mux = path.join(STATE_DIR, "vms", id, "ssh.mux");
    assert.ok(existsSync(mux), "prepare left its shared SSH connection open for the next one");
    await ok(["vm", "stop", vm]);
    assert.ok(!existsSync(mux), "stop closes the shared SSH connection");
    const stopped = await banger(["vm", "workspace", "prepare", vm, path.join(tmp, "shallow")]);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, new RegExp(`hint: banger vm start ${vm}`));
  },
);
