import assert from "node:assert/strict";
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { makeStagingDir, mountsUnder, removeStagingDir } from "./staging.js";

const MOUNTINFO = [
  "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
  "90 22 0:5 / /s/staging/img-1/root/dev rw shared:2 - devtmpfs udev rw",
  "91 90 0:20 / /s/staging/img-1/root/dev/pts rw shared:3 - devpts devpts rw",
  "92 22 0:21 / /s/staging/img-10/root/proc rw - proc proc rw",
  "93 22 0:22 / /s/staging/with\\040space/x rw - tmpfs tmpfs rw",
  "",
].join("\n");

test("mountsUnder finds mounts inside a dir, deepest first, and not in its siblings", () => {
  assert.deepEqual(mountsUnder(MOUNTINFO, "/s/staging/img-1"), [
    "/s/staging/img-1/root/dev/pts",
    "/s/staging/img-1/root/dev",
  ]);
  assert.deepEqual(mountsUnder(MOUNTINFO, "/s/staging/with space"), ["/s/staging/with space/x"]);
  assert.deepEqual(mountsUnder(MOUNTINFO, "/elsewhere"), []);
});

test("removeStagingDir deletes a tree without mounts and ignores a missing one", async (t) => {
  const base = await mkdtemp(path.join(tmpdir(), "banger-staging-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  const dir = await makeStagingDir(path.join(base, "staging"), "image-x");
  assert.match(path.basename(dir), /^image-x-/);
  await mkdir(path.join(dir, "root/etc"), { recursive: true });
  await writeFile(path.join(dir, "root/etc/f"), "x");

  await removeStagingDir(dir);
  await assert.rejects(access(dir));
  assert.deepEqual(await readdir(path.join(base, "staging")), []);
  await removeStagingDir(dir);
});
