import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
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
import { banger, cleanup, inVm, list, ok, uniqueName } from "./harness.js";

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

    await ok(["vm", "stop", vm]);
    const stopped = await banger(["vm", "workspace", "prepare", vm, path.join(tmp, "shallow")]);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, new RegExp(`hint: banger vm start ${vm}`));
  },
);
