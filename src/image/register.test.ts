import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { isBangerError } from "../errors/index.js";
import { resolvePaths } from "../paths/index.js";
import { deleteImage, registerImage } from "./register.js";
import { getImage } from "./store.js";

async function setup(t: TestContext) {
  const dir = await mkdtemp(path.join(tmpdir(), "banger-register-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const paths = resolvePaths({ BANGER_STATE_DIR: path.join(dir, "state") });
  const ext4 = async (name: string, withAgent: boolean): Promise<string> => {
    const tree = path.join(dir, `${name}-tree`);
    await mkdir(path.join(tree, "usr/local/bin"), { recursive: true });
    await writeFile(path.join(tree, "etc-marker"), "x");
    if (withAgent)
      await writeFile(path.join(tree, "usr/local/bin/banger-agent"), "#!x", { mode: 0o755 });
    const file = path.join(dir, `${name}.ext4`);
    execFileSync("mkfs.ext4", ["-q", "-F", "-d", tree, file, "16M"]);
    return file;
  };
  return { dir, paths, ext4 };
}

test("a registered ext4 file is used in place and its agent is detected", async (t) => {
  const { paths, ext4 } = await setup(t);
  const withAgent = await ext4("a", true);
  const without = await ext4("b", false);

  const a = await registerImage(paths, { name: "with-agent", rootfs: withAgent, kernel: "k1" });
  assert.equal(a.rootfsPath, withAgent);
  assert.equal(a.agent, true);
  assert.equal(a.kernel, "k1");
  assert.equal(a.rootSkelDir, undefined);
  const b = await registerImage(paths, { name: "no-agent", rootfs: without });
  assert.equal(b.agent, false);
  assert.equal((await getImage(paths, "no-agent")).rootfsPath, without);
});

test("register refuses a taken name, a missing file and a file that is not ext4", async (t) => {
  const { dir, paths, ext4 } = await setup(t);
  const file = await ext4("c", false);
  await registerImage(paths, { name: "c", rootfs: file });
  await assert.rejects(registerImage(paths, { name: "c", rootfs: file }), (e) =>
    isBangerError(e, "IMAGE_EXISTS"),
  );
  await assert.rejects(
    registerImage(paths, { name: "d", rootfs: path.join(dir, "nope.ext4") }),
    /does not exist/,
  );
  const junk = path.join(dir, "junk.img");
  await writeFile(junk, Buffer.alloc(4096));
  await assert.rejects(registerImage(paths, { name: "e", rootfs: junk }), /not an ext4 filesystem/);
  await assert.rejects(registerImage(paths, { name: "../x", rootfs: file }), (e) =>
    isBangerError(e, "INVALID_NAME"),
  );
  assert.ok(!existsSync(path.join(paths.imagesDir, "e")), "a refused register leaves no image");
});

test("delete is refused while VMs use the image and keeps a registered file", async (t) => {
  const { paths, ext4 } = await setup(t);
  const file = await ext4("f", false);
  await registerImage(paths, { name: "f", rootfs: file });
  await assert.rejects(
    deleteImage(paths, "f", ["web-1", "web-2"]),
    (e) => isBangerError(e, "IMAGE_IN_USE") && /used by VMs "web-1", "web-2"/.test(e.message),
  );
  await deleteImage(paths, "f", []);
  await assert.rejects(getImage(paths, "f"), (e) => isBangerError(e, "IMAGE_NOT_FOUND"));
  assert.ok(existsSync(file), "the host file stays");
});
