import assert from "node:assert/strict";
import { lstat, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { run } from "../host/index.js";
import { writeCpio } from "./cpio-writer.js";
import { bootFileEntries, buildVmInitrd } from "./vm-initrd.js";

test("creates missing parents with 0755 unless the directory is given", () => {
  const entries = bootFileEntries([
    { path: "/root/.ssh/authorized_keys", content: "ssh-ed25519 AAAA\n", mode: 0o600 },
    { path: "/root/.ssh", content: "", mode: 0o040700 },
    { path: "/etc/hostname", content: "web-1\n", mode: 0o644 },
  ]);
  const summary = entries.map(
    (e) => `${e.kind} ${e.name} ${"mode" in e ? e.mode.toString(8) : ""}`,
  );
  assert.deepEqual(summary, [
    "dir /banger 755",
    "dir /banger/root 755",
    "dir /banger/root/root 755",
    "dir /banger/root/root/.ssh 40700",
    "file /banger/root/root/.ssh/authorized_keys 600",
    "dir /banger/root/etc 755",
    "file /banger/root/etc/hostname 644",
  ]);
});

test("refuses hostile or ambiguous paths", () => {
  const bad = [
    "relative/path",
    "/",
    "/etc/../../host",
    "/etc/./x",
    "/etc//x",
    "/etc/x/",
    "/etc/new\nline",
    `/${"a".repeat(256)}`,
  ];
  for (const p of bad) {
    assert.throws(
      () => bootFileEntries([{ path: p, content: "x", mode: 0o644 }]),
      (err) => isBangerError(err, "INVALID_ARGUMENT"),
      p,
    );
  }
  const twice = [
    { path: "/etc/x", content: "a", mode: 0o644 },
    { path: "/etc/x", content: "b", mode: 0o644 },
  ];
  assert.throws(() => bootFileEntries(twice), /given twice/);
  const fileAsDir = [
    { path: "/etc/x", content: "a", mode: 0o644 },
    { path: "/etc/x/y", content: "b", mode: 0o644 },
  ];
  assert.throws(() => bootFileEntries(fileAsDir), /also a parent/);
  assert.throws(() => bootFileEntries([{ path: "/dev/sda", content: "", mode: 0o060600 }]), /mode/);
});

test("appends an aligned second archive after the base bytes, unchanged", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "banger-vminitrd-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // An odd length forces padding between the two archives.
  const base = Buffer.concat([
    writeCpio([{ kind: "dir", name: "/bin", mode: 0o755 }], 0),
    Buffer.from("xyz"),
  ]);
  const basePath = path.join(dir, "base.img");
  await writeFile(basePath, base);
  const outPath = path.join(dir, "vm.img");
  await buildVmInitrd({
    baseInitrdPath: basePath,
    outPath,
    files: [
      { path: "/etc/hostname", content: "web-1\n", mode: 0o644 },
      {
        path: "/etc/ssh/sshd_config.d/banger.conf",
        content: Buffer.from("Port 22\n"),
        mode: 0o600,
      },
      { path: "/usr/bin/vi", content: "busybox", mode: 0o120777 },
    ],
  });

  const out = await readFile(outPath);
  assert.deepEqual(out.subarray(0, base.length), base);
  const second = base.length + ((4 - (base.length % 4)) % 4);
  assert.equal(second % 4, 0);
  assert.deepEqual(out.subarray(base.length, second), Buffer.alloc(second - base.length));

  const archive = path.join(dir, "second.cpio");
  await writeFile(archive, out.subarray(second));
  const x = path.join(dir, "x");
  await run("sh", ["-c", 'mkdir "$1" && cd "$1" && cpio -id --quiet < "$2"', "sh", x, archive]);
  const root = path.join(x, "banger/root");
  assert.equal(await readFile(path.join(root, "etc/hostname"), "utf8"), "web-1\n");
  const conf = path.join(root, "etc/ssh/sshd_config.d/banger.conf");
  assert.equal((await lstat(conf)).mode & 0o7777, 0o600);
  assert.equal((await lstat(path.join(root, "etc/ssh"))).mode & 0o7777, 0o755);
  assert.ok((await lstat(path.join(root, "usr/bin/vi"))).isSymbolicLink());
});

test("a missing base initramfs fails with INITRD_BUILD_FAILED and writes nothing", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "banger-vminitrd-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const outPath = path.join(dir, "vm.img");
  await assert.rejects(
    buildVmInitrd({ baseInitrdPath: path.join(dir, "nope"), outPath, files: [] }),
    (err) => isBangerError(err, "INITRD_BUILD_FAILED") && /does not exist/.test(err.message),
  );
  await assert.rejects(lstat(outPath), { code: "ENOENT" });
});
