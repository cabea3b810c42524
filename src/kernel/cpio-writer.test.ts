import assert from "node:assert/strict";
import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { run } from "../host/index.js";
import { writeCpio, type CpioEntry } from "./cpio-writer.js";

const ENTRIES: CpioEntry[] = [
  { kind: "dir", name: "/etc", mode: 0o755 },
  { kind: "dir", name: "/etc/ssh", mode: 0o700 },
  { kind: "file", name: "/etc/ssh/key", mode: 0o600, data: Buffer.from("secret\n") },
  { kind: "file", name: "/etc/odd", mode: 0o4755, data: Buffer.from([0, 1, 2, 255, 254]) },
  { kind: "file", name: "/etc/empty", mode: 0o644, data: Buffer.alloc(0) },
  { kind: "symlink", name: "/etc/link", target: "ssh/key" },
  { kind: "chardev", name: "/console", mode: 0o600, major: 5, minor: 1 },
];

test("the host cpio lists what the writer wrote", async () => {
  const { stdout } = await run("cpio", ["-t", "--quiet"], {
    input: writeCpio(ENTRIES, 1_700_000_000),
  });
  assert.deepEqual(stdout.trim().split("\n"), [
    "etc",
    "etc/ssh",
    "etc/ssh/key",
    "etc/odd",
    "etc/empty",
    "etc/link",
    "console",
  ]);
});

test("the host cpio extracts contents, modes and symlinks intact", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "banger-cpio-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const archive = path.join(dir, "a.cpio");
  await writeFile(archive, writeCpio(ENTRIES.slice(0, 6), 1_700_000_000));
  const out = path.join(dir, "out");
  await run("sh", ["-c", 'mkdir "$1" && cd "$1" && cpio -idm --quiet < "$2"', "sh", out, archive]);

  assert.equal(await readFile(path.join(out, "etc/ssh/key"), "utf8"), "secret\n");
  assert.deepEqual(await readFile(path.join(out, "etc/odd")), Buffer.from([0, 1, 2, 255, 254]));
  assert.equal((await lstat(path.join(out, "etc/ssh/key"))).mode & 0o7777, 0o600);
  assert.equal((await lstat(path.join(out, "etc/ssh"))).mode & 0o7777, 0o700);
  assert.equal((await lstat(path.join(out, "etc/odd"))).mode & 0o7777, 0o4755);
  assert.equal((await lstat(path.join(out, "etc/empty"))).size, 0);
  assert.equal(await readlink(path.join(out, "etc/link")), "ssh/key");
  assert.equal((await lstat(path.join(out, "etc/ssh/key"))).mtimeMs, 1_700_000_000_000);
});

test("every record and the archive stay 4-byte aligned, ending in the trailer", () => {
  const archive = writeCpio(ENTRIES, 0);
  assert.equal(archive.length % 4, 0);
  assert.match(archive.subarray(0, 6).toString("ascii"), /^070701$/);
  assert.ok(archive.includes(Buffer.from("TRAILER!!!\0")));
});

test("refuses values a newc header cannot hold", () => {
  assert.throws(() => writeCpio([{ kind: "dir", name: "/x", mode: 0o755 }], -1), RangeError);
});
