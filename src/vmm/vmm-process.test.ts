import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { cmdlineNamesSocket, isVmmProcess, readPidFile, splitQemuOpts } from "./vmm-process.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vmm-process-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("splitQemuOpts: single commas separate, doubled commas are literal", () => {
  assert.deepEqual(splitQemuOpts("socket,id=q,path=/a,,b,server=on"), [
    "socket",
    "id=q",
    "path=/a,b",
    "server=on",
  ]);
  assert.deepEqual(splitQemuOpts(""), [""]);
});

test("cmdlineNamesSocket: an exact path option, never a prefix or a neighbour", () => {
  const argv = ["qemu", "-chardev", "socket,id=qmp,path=/vms/ab/control.sock,server=on,wait=off"];
  assert.equal(cmdlineNamesSocket(argv, "/vms/ab/control.sock"), true);
  assert.equal(cmdlineNamesSocket(argv, "/vms/a/control.sock"), false);
  assert.equal(cmdlineNamesSocket(argv, "/vms/ab/control"), false);
  const comma = ["qemu", "-chardev", "socket,id=qmp,path=/v,,x/c.sock,server=on"];
  assert.equal(cmdlineNamesSocket(comma, "/v,x/c.sock"), true);
  assert.equal(cmdlineNamesSocket(comma, "/v"), false);
});

test("readPidFile: a pid, or undefined for missing or malformed files", async () => {
  const file = path.join(dir, "vmm.pid");
  assert.equal(await readPidFile(file), undefined);
  await writeFile(file, "4242\n");
  assert.equal(await readPidFile(file), 4242);
  for (const bad of ["", "abc", "12 34", "-5", "1", "99999999999"]) {
    await writeFile(file, bad);
    assert.equal(await readPidFile(file), undefined, JSON.stringify(bad));
  }
});

test("isVmmProcess: reads /proc/<pid>/cmdline; gone and zombie processes are not alive", async () => {
  const proc = path.join(dir, "proc");
  await mkdir(path.join(proc, "100"), { recursive: true });
  await mkdir(path.join(proc, "101"), { recursive: true });
  await writeFile(
    path.join(proc, "100", "cmdline"),
    "qemu-system-x86_64\0-chardev\0socket,id=qmp,path=/v/c.sock,server=on\0",
  );
  await writeFile(path.join(proc, "101", "cmdline"), "");
  assert.equal(await isVmmProcess(100, "/v/c.sock", proc), true);
  assert.equal(await isVmmProcess(100, "/w/c.sock", proc), false);
  assert.equal(await isVmmProcess(101, "/v/c.sock", proc), false);
  assert.equal(await isVmmProcess(102, "/v/c.sock", proc), false);
});

test("isVmmProcess: this test process is not a VMM", async () => {
  assert.equal(await isVmmProcess(process.pid, "/v/c.sock"), false);
});
