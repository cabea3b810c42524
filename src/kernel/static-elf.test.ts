import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { checkStaticElf } from "./static-elf.js";

test("accepts the host's static busybox", async () => {
  checkStaticElf(await readFile("/bin/busybox"), "/bin/busybox");
});

test("refuses a dynamically linked executable and a non-ELF file", async () => {
  const refused = (err: unknown): boolean => isBangerError(err, "INITRD_BUILD_FAILED");
  assert.throws(() => checkStaticElf(Buffer.from("#!/bin/sh\n".padEnd(80)), "x"), refused);
  const ls = await readFile("/bin/ls");
  assert.throws(() => checkStaticElf(ls, "/bin/ls"), /dynamically linked/);
});
