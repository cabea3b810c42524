import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { parseProbe } from "./incremental.js";
import { readManifest, writeManifest } from "./manifest.js";

const TOKEN = "0123456789abcdef0123456789abcdef";

function answer(head: string, ...records: string[]): Buffer {
  return Buffer.concat([Buffer.from(`${head}\n`), ...records.map((r) => Buffer.from(`${r}\0`))]);
}

test("parseProbe reads the token, free space and every entry, names as they are", () => {
  const out = parseProbe(answer(`ok ${TOKEN} 2048`, "Od a", "Nf a/new\nline", "Ol -dash", "Of é"));
  assert.ok(!("fallback" in out));
  assert.equal(out.token, TOKEN);
  assert.equal(out.freeBytes, 2048 * 1024);
  assert.deepEqual(
    [...out.entries],
    [
      ["a", { type: "d", drift: false }],
      ["a/new\nline", { type: "f", drift: true }],
      ["-dash", { type: "l", drift: false }],
      ["é", { type: "f", drift: false }],
    ],
  );
});

test("parseProbe passes the guest's reason on, made printable", () => {
  assert.deepEqual(parseProbe(Buffer.from("unusable no GNU find\n")), {
    fallback: "unusable no GNU find".slice("unusable ".length),
  });
  assert.deepEqual(parseProbe(Buffer.from("unusable \x1b[31mred\n")), { fallback: "?[31mred" });
});

test("parseProbe turns any hostile or broken answer into a whole prepare", () => {
  const cases: [string, Buffer][] = [
    ["empty", Buffer.alloc(0)],
    ["bad token", answer("ok ../../etc 10")],
    ["no free space", answer(`ok ${TOKEN} lots`)],
    ["absolute path", answer(`ok ${TOKEN} 1`, "Of /etc/passwd")],
    ["dot-dot", answer(`ok ${TOKEN} 1`, "Of a/../../x")],
    ["empty component", answer(`ok ${TOKEN} 1`, "Of a//b")],
    [
      "not UTF-8",
      Buffer.concat([answer(`ok ${TOKEN} 1`), Buffer.from([0x4f, 0x66, 0x20, 0xff, 0])]),
    ],
    ["no type", answer(`ok ${TOKEN} 1`, "O")],
    ["cut short", Buffer.concat([answer(`ok ${TOKEN} 1`), Buffer.from("Of a")])],
    ["garbage", Buffer.from("\0\0\0\n\0")],
  ];
  for (const [name, buf] of cases) {
    assert.ok("fallback" in parseProbe(buf), name);
  }
});

test("a manifest reads back as written; a damaged one reads as none", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "banger-manifest-"));
  try {
    const file = path.join(dir, "workspace.json");
    assert.equal(await readManifest(file), null);
    const entries = new Map([
      [
        "a b/c\nd",
        { type: "f" as const, mode: 0o755, size: 3, mtimeMs: 1.5, ctimeMs: 2.25, ino: 9 },
      ],
    ]);
    await writeManifest(file, { key: '{"k":1}', token: TOKEN, scannedAt: 42, entries });
    assert.deepEqual(await readManifest(file), {
      key: '{"k":1}',
      token: TOKEN,
      scannedAt: 42,
      entries,
    });
    writeFileSync(file, '{"format":1,"key":"x"');
    assert.equal(await readManifest(file), null);
    writeFileSync(
      file,
      JSON.stringify({ format: 1, key: "x", token: "nope", scannedAt: 1, entries: [] }),
    );
    assert.equal(await readManifest(file), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
