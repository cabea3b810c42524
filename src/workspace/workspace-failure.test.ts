// A prepare that fails half-way, against a real sshd: a full guest disk (a small tmpfs) and an
// interrupted copy must leave the previous workspace exactly as it was, and nothing beside it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { prepareWorkspace, type PrepareWorkspaceOptions } from "./index.js";
import { sshdSkipReason, startSshd, type SshdFixture } from "./sshd-fixture.js";
import { commitAll, newRepo, put, snapshot } from "./testing.js";

const skip = await sshdSkipReason();
let fx: SshdFixture;
let small = "";
let mounted = false;

before(async () => {
  if (skip) return;
  fx = await startSshd();
  small = path.join(fx.dir, "small-disk");
  mkdirSync(small);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", small], { stdio: "ignore" });
    mounted = true;
  } catch {
    mounted = false;
  }
});
after(async () => {
  if (skip) return;
  if (mounted) execFileSync("umount", [small]);
  await fx.stop();
});

function prepare(
  opts: Pick<PrepareWorkspaceOptions, "hostPath" | "guestPath"> & Partial<PrepareWorkspaceOptions>,
): ReturnType<typeof prepareWorkspace> {
  const base = {
    target: fx.target,
    mode: "shallow",
    includeUntracked: true,
    dryRun: false,
  } as const;
  return prepareWorkspace({ ...base, report: () => undefined, ...opts });
}

/** Polls until no staging or aside dir is left beside `guestPath` (the guest may lag). */
async function assertNoLeftovers(guestPath: string): Promise<void> {
  const list = (): string[] =>
    readdirSync(path.dirname(guestPath)).filter(
      (n) => n.includes(".banger-") && !n.endsWith(".banger-stamp"),
    );
  for (let i = 0; i < 50 && list().length > 0; i++) await sleep(100);
  assert.deepEqual(list(), []);
}

test(
  "a guest disk too small is refused before sending, or caught when it fills up",
  { skip, timeout: 60_000 },
  async (t) => {
    if (!mounted) return t.skip("cannot mount a tmpfs here");
    const repo = newRepo(path.join(fx.dir, "host", "roomy"));
    put(repo, "a", "first version\n");
    commitAll(repo, "one");
    const guestPath = path.join(small, "ws");
    await prepare({ hostPath: repo, guestPath });
    const previous = snapshot(guestPath);

    put(repo, "huge", randomBytes(20 * 1024 * 1024));
    await assert.rejects(prepare({ hostPath: repo, guestPath }), (err) => {
      assert.ok(isBangerError(err, "NO_SPACE"), String(err));
      assert.match(err.message, new RegExp(`"${guestPath}".*20\\.0 MiB to send, [0-9.]+ MiB free`));
      return true;
    });
    assert.deepEqual(snapshot(guestPath), previous);
    await assertNoLeftovers(guestPath);

    // Fits by the files alone, but not with the commit's objects on top.
    rmSync(path.join(repo, "huge"));
    put(repo, "five", randomBytes(5 * 1024 * 1024));
    commitAll(repo, "two");
    await assert.rejects(prepare({ hostPath: repo, guestPath }), (err) => {
      assert.ok(isBangerError(err, "NO_SPACE"), String(err));
      assert.match(err.message, /the disk filled up/);
      return true;
    });
    assert.deepEqual(snapshot(guestPath), previous);
    await assertNoLeftovers(guestPath);
  },
);

test(
  "an interrupted copy leaves the previous workspace and no staging dir",
  { skip, timeout: 60_000 },
  async () => {
    const repo = newRepo(path.join(fx.dir, "host", "cut"));
    put(repo, "a", "first version\n");
    commitAll(repo, "one");
    const guestPath = path.join(fx.dir, "guest", "cut");
    await prepare({ hostPath: repo, guestPath });
    const previous = snapshot(guestPath);

    put(repo, "a", "second version\n");
    put(repo, "big", randomBytes(50 * 1024 * 1024));
    const abort = new AbortController();
    const cut = prepare({
      hostPath: repo,
      guestPath,
      signal: abort.signal,
      report: (e) => {
        if (e.type === "progress") abort.abort();
      },
    });
    await assert.rejects(cut, (err) => isBangerError(err, "INTERRUPTED"));
    assert.deepEqual(snapshot(guestPath), previous);
    await assertNoLeftovers(guestPath);
    assert.ok(existsSync(path.join(guestPath, ".git")));
  },
);

test(
  "an update that fills the guest disk or is interrupted changes nothing; the next one works",
  { skip, timeout: 60_000 },
  async (t) => {
    if (!mounted) return t.skip("cannot mount a tmpfs here");
    const repo = newRepo(path.join(fx.dir, "host", "update"));
    put(repo, "a", "first version\n");
    commitAll(repo, "one");
    const guestPath = path.join(small, "up");
    const manifestPath = path.join(fx.dir, "update.json");
    await prepare({ hostPath: repo, guestPath, manifestPath });
    const previous = snapshot(guestPath);

    // Thirty one-byte files fit by size; their pages do not fit in what is left.
    const filler = path.join(small, "filler");
    execFileSync("sh", ["-c", `dd if=/dev/zero of="$1" bs=4k 2>/dev/null; true`, "sh", filler]);
    execFileSync("truncate", ["-s", "-64K", filler]);
    for (let i = 0; i < 30; i++) put(repo, `g${i}`, "y");
    const steps: string[] = [];
    const report: PrepareWorkspaceOptions["report"] = (e) => {
      if (e.type === "step" && e.status === "start") steps.push(e.step);
    };
    await assert.rejects(
      prepare({ hostPath: repo, guestPath, manifestPath, includeUntracked: true, report }),
      (err) => {
        assert.ok(isBangerError(err, "NO_SPACE"), String(err));
        assert.match(err.message, /the disk filled up .*the previous workspace is intact/);
        return true;
      },
    );
    assert.ok(steps.includes("workspace-update"), steps.join(","));
    assert.deepEqual(snapshot(guestPath), previous);
    await assertNoLeftovers(guestPath);
    rmSync(filler);

    // Interrupted while the bytes travel.
    put(repo, "big", randomBytes(50 * 1024 * 1024));
    const abort = new AbortController();
    const cutPath = path.join(fx.dir, "guest", "up");
    // A workspace outside the small disk, with its own record.
    await prepare({ hostPath: repo, guestPath: cutPath, manifestPath: `${manifestPath}.cut` });
    const before = snapshot(cutPath);
    put(repo, "big", randomBytes(50 * 1024 * 1024));
    const interrupted = prepare({
      hostPath: repo,
      guestPath: cutPath,
      manifestPath: `${manifestPath}.cut`,
      signal: abort.signal,
      report: (e) => {
        if (e.type === "step" && e.status === "start" && e.step === "workspace-update") {
          setTimeout(() => abort.abort(), 50);
        }
      },
    });
    await assert.rejects(interrupted, (err) => isBangerError(err, "INTERRUPTED"));
    assert.deepEqual(snapshot(cutPath), before);
    await assertNoLeftovers(cutPath);

    // Nothing was lost on the way: the next prepare is still an update, and complete.
    const again = await prepare({
      hostPath: repo,
      guestPath: cutPath,
      manifestPath: `${manifestPath}.cut`,
      report,
    });
    assert.ok(again.update, "sent as an update");
    assert.deepEqual(
      snapshot(cutPath, (p) => p === ".git" || p.startsWith(".git/")),
      snapshot(repo, (p) => p === ".git" || p.startsWith(".git/")),
    );
  },
);
