import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { forgetHostKey, pinHostKey } from "./known-hosts.js";

// Two real ed25519 public keys (made with ssh-keygen, private halves discarded).
const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMTOxQrUkJ0rYKCcg+0FNLWKxHihJ/h6uDbBXcU/3za8";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG4vGry0sdCEQU7ZxsSj61/v9yr9ELn8U+1SSKkujbtZ";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "banger-known-hosts-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function file(name: string): string {
  return path.join(dir, name);
}

test("pinHostKey creates the file with one line per alias", async () => {
  const kh = file("fresh");
  await pinHostKey(kh, "vm1", `${KEY_A} banger-vm-host`);
  await pinHostKey(kh, "vm2", KEY_B);
  assert.equal(await readFile(kh, "utf8"), `vm1 ${KEY_A}\nvm2 ${KEY_B}\n`);
});

test("pinHostKey replaces the alias's line and keeps every other line byte for byte", async () => {
  const kh = file("mixed");
  const others = [
    "# a comment mentioning vm1",
    `vm10 ${KEY_A}`,
    `vm1.example ${KEY_A}`,
    `[vm1]:2222 ${KEY_A}`,
    `other,vm1 ${KEY_A}`,
    "  odd   spacing\tline  \r",
    "",
  ];
  await writeFile(kh, [others[0], `vm1 ${KEY_A}`, ...others.slice(1), `vm1 ${KEY_B}`].join("\n"));
  await pinHostKey(kh, "vm1", KEY_B);
  assert.equal(await readFile(kh, "utf8"), [...others, `vm1 ${KEY_B}`, ""].join("\n"));
});

test("pinHostKey is idempotent and concurrent pins lose nothing", async () => {
  const kh = file("concurrent");
  const aliases = Array.from({ length: 20 }, (_, i) => `vm${i}`);
  await Promise.all(aliases.map((a) => pinHostKey(kh, a, KEY_A)));
  await pinHostKey(kh, "vm3", KEY_A);
  const lines = (await readFile(kh, "utf8")).trimEnd().split("\n");
  assert.deepEqual(lines.map((l) => l.split(" ")[0]).sort(), [...aliases].sort());
});

test("pinHostKey writes only the first line of a key, so nothing can be smuggled in", async () => {
  const kh = file("smuggle");
  await pinHostKey(kh, "vm1", `${KEY_A} comment\nvm2 ${KEY_B}\n`);
  assert.equal(await readFile(kh, "utf8"), `vm1 ${KEY_A}\n`);
});

test("forgetHostKey removes only the alias and accepts a missing file or alias", async () => {
  const kh = file("forget");
  await writeFile(kh, `vm1 ${KEY_A}\nvm2 ${KEY_B}\nvm1 ${KEY_B}\n`);
  await forgetHostKey(kh, "vm1");
  assert.equal(await readFile(kh, "utf8"), `vm2 ${KEY_B}\n`);
  await forgetHostKey(kh, "vm1");
  await forgetHostKey(file("absent"), "vm1");
  await assert.rejects(readFile(file("absent")), { code: "ENOENT" });
});

test("pinHostKey refuses bad aliases and keys", async () => {
  const kh = file("bad");
  const cases: [string, string][] = [
    ["*", KEY_A],
    ["a b", KEY_A],
    ["|1|hashed", KEY_A],
    ["vm1", "ssh-ed25519"],
    ["vm1", "ssh-ed25519 not*base64"],
    ["vm1", KEY_A.replace("ssh-ed25519", "ssh-rsa")],
    ["vm1", KEY_A.slice(0, -8)],
  ];
  for (const [alias, key] of cases) {
    await assert.rejects(
      pinHostKey(kh, alias, key),
      (err) => isBangerError(err, "INVALID_ARGUMENT"),
      `${alias} ${key}`,
    );
  }
  await assert.rejects(readFile(kh), { code: "ENOENT" });
});
