import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import type { ProgressEvent } from "../api/progress.js";
import { isBangerError } from "../errors/index.js";
import { run } from "../host/index.js";
import { resolvePaths, type Paths } from "../paths/index.js";
import { DEFAULT_IMAGE, ensureDefaultImage } from "./default-image.js";

// Fake mmdebstraps, first in PATH for this test process only. Each logs its run to $FAKE_LOG.
const FAKES: Record<string, string> = {
  failing: `
echo run >> "$FAKE_LOG"
root="\${@: -2:1}"
mkdir -p "$root/etc"
echo "I: running apt-get update..." >&2
echo "E: mirror sulked: 404 Not Found" >&2
exit 1`,
  full: `
echo run >> "$FAKE_LOG"
echo "I: running apt-get update..." >&2
echo "E: write error: No space left on device" >&2
exit 1`,
  slow: `
echo run >> "$FAKE_LOG"
root="\${@: -2:1}"
mkdir -p "$root/etc"
echo "I: running apt-get update..." >&2
exec sleep 30`,
  working: `
echo run >> "$FAKE_LOG"
root="\${@: -2:1}"
mkdir -p "$root/etc/ssh" "$root/root/.ssh" "$root/usr/bin" "$root/lib/systemd/system"
chmod 700 "$root/root/.ssh"
echo "PS1=x" > "$root/root/.bashrc"
echo "key" > "$root/etc/ssh/ssh_host_ed25519_key"
printf 'root:*:20000:0:99999:7:::\\n' > "$root/etc/shadow"
cp /bin/true "$root/usr/bin/passwd" && chmod 4755 "$root/usr/bin/passwd"
for stage in "running apt-get update..." "downloading packages with apt..." "success in 1 s"; do
  echo "I: $stage" >&2
done`,
};

async function setup(
  t: TestContext,
  fake: keyof typeof FAKES,
): Promise<{ paths: Paths; log: string }> {
  const base = await mkdtemp(path.join(tmpdir(), "banger-build-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  const bin = path.join(base, "bin");
  await mkdir(bin);
  await writeFile(path.join(bin, "mmdebstrap"), `#!/bin/bash\n${FAKES[fake]}\n`);
  await chmod(path.join(bin, "mmdebstrap"), 0o755);
  const oldPath = process.env["PATH"];
  process.env["PATH"] = `${bin}:${oldPath ?? ""}`;
  const log = path.join(base, "runs.log");
  process.env["FAKE_LOG"] = log;
  t.after(() => {
    process.env["PATH"] = oldPath;
  });
  return { paths: resolvePaths({ BANGER_STATE_DIR: path.join(base, "state") }), log };
}

async function runs(log: string): Promise<number> {
  return (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean).length;
}

async function assertNothingLeft(paths: Paths): Promise<void> {
  assert.deepEqual(await readdir(paths.stagingDir), []);
  await assert.rejects(stat(path.join(paths.imagesDir, DEFAULT_IMAGE)), { code: "ENOENT" });
}

test("a failing mmdebstrap leaves no staging dir and reports its stderr", async (t) => {
  const { paths } = await setup(t, "failing");
  const events: ProgressEvent[] = [];
  await assert.rejects(
    ensureDefaultImage({ paths, mirror: "", report: (e) => events.push(e) }),
    (err) => {
      assert.ok(isBangerError(err, "IMAGE_BUILD_FAILED"), String(err));
      assert.match(err.message, /cannot build image "debian-bookworm": mmdebstrap/);
      assert.match(err.message, /E: mirror sulked: 404 Not Found/);
      return true;
    },
  );
  await assertNothingLeft(paths);
  assert.ok(events.some((e) => e.type === "progress" && e.current === 1 && e.total === 7));
  assert.ok(events.some((e) => e.type === "step" && e.status === "fail"));
});

test("a full disk during the build is NO_SPACE", async (t) => {
  const { paths } = await setup(t, "full");
  await assert.rejects(ensureDefaultImage({ paths, mirror: "", report: () => {} }), (err) =>
    isBangerError(err, "NO_SPACE"),
  );
  await assertNothingLeft(paths);
});

test("aborting the build kills mmdebstrap and removes the staging dir", async (t) => {
  const { paths } = await setup(t, "slow");
  const controller = new AbortController();
  const report = (e: ProgressEvent): void => {
    if (e.type === "progress") controller.abort();
  };
  const started = Date.now();
  await assert.rejects(
    ensureDefaultImage({ paths, mirror: "", report, signal: controller.signal }),
    (err) => isBangerError(err, "IMAGE_BUILD_FAILED") && /interrupted/.test(err.message),
  );
  assert.ok(Date.now() - started < 10_000);
  await assertNothingLeft(paths);
});

test("a bad mirror is refused before anything runs", async (t) => {
  const { paths, log } = await setup(t, "working");
  await assert.rejects(
    ensureDefaultImage({ paths, mirror: "--customize-hook=x", report: () => {} }),
    (err) => isBangerError(err, "INVALID_ARGUMENT"),
  );
  assert.equal(await runs(log), 0);
});

test("concurrent calls share one build that publishes a complete image", async (t) => {
  const { paths, log } = await setup(t, "working");
  const [a, b] = await Promise.all([
    ensureDefaultImage({ paths, mirror: "", report: () => {} }),
    ensureDefaultImage({ paths, mirror: "", report: () => {} }),
  ]);
  assert.deepEqual(a, b);
  assert.equal(await runs(log), 1);
  assert.equal(a.source, "mmdebstrap:bookworm");
  assert.equal(a.sizeBytes, 1024 * 1024 * 1024);
  assert.equal(a.agent, true, "the default image carries the guest agent");
  assert.equal((await stat(a.rootfsPath)).mode & 0o777, 0o444);
  assert.equal(await readFile(path.join(a.rootSkelDir ?? "(none)", ".bashrc"), "utf8"), "PS1=x\n");
  assert.deepEqual(await readdir(paths.stagingDir), []);

  const debugfs = async (req: string): Promise<string> =>
    (await run("debugfs", ["-R", req, a.rootfsPath])).stdout;
  assert.match(await debugfs("cat /etc/fstab"), /^\/dev\/vdb \/root ext4 defaults,nofail 0 2$/m);
  assert.match(await debugfs("stat /usr/bin/passwd"), /Mode:\s+04755/);
  assert.doesNotMatch(await debugfs("ls /etc/ssh"), /ssh_host/);

  const again = await ensureDefaultImage({ paths, mirror: "", report: () => {} });
  assert.deepEqual(again, a);
  assert.equal(await runs(log), 1, "a published image is not rebuilt");
});

test("a corrupt published image is reported, not rebuilt over", async (t) => {
  const { paths, log } = await setup(t, "working");
  const dir = path.join(paths.imagesDir, DEFAULT_IMAGE);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "manifest.json"), "{");
  await assert.rejects(
    ensureDefaultImage({ paths, mirror: "", report: () => {} }),
    (err) => isBangerError(err, "IMAGE_NOT_FOUND") && err.message.includes("manifest.json"),
  );
  assert.equal(await runs(log), 0);
});
