import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import {
  MMDEBSTRAP_STAGES,
  checkMirror,
  lineSplitter,
  mmdebstrapArgs,
  mmdebstrapStage,
} from "./mmdebstrap.js";

test("mmdebstrapStage maps mmdebstrap's stage lines in order", () => {
  const lines = [
    "I: automatically chosen mode: root",
    "I: running apt-get update...",
    "I: downloading packages with apt...",
    "I: extracting archives...",
    "I: installing essential packages...",
    "I: installing remaining packages inside the chroot...",
    "I: cleaning package lists and apt cache...",
    "I: success in 53.7840 seconds",
  ];
  const stages = lines.map(mmdebstrapStage);
  assert.deepEqual(stages, [undefined, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(MMDEBSTRAP_STAGES.length, 7);
});

test("mmdebstrapStage ignores warnings and unknown text", () => {
  assert.equal(mmdebstrapStage("W: running apt-get update..."), undefined);
  assert.equal(mmdebstrapStage("E: success"), undefined);
  assert.equal(mmdebstrapStage(""), undefined);
});

test("lineSplitter joins lines split across chunks", () => {
  const seen: string[] = [];
  const feed = lineSplitter((l) => seen.push(l));
  feed("I: runn");
  feed("ing apt-get update...\nI: down");
  assert.deepEqual(seen, ["I: running apt-get update..."]);
  feed("loading\r\n");
  assert.deepEqual(seen, ["I: running apt-get update...", "I: downloading"]);
});

test("mmdebstrapArgs builds minbase with the packages and ends with suite, root, mirror", () => {
  const args = mmdebstrapArgs("/s/root", "http://m/debian", "bookworm");
  assert.ok(args.includes("--variant=minbase"));
  assert.ok(args.includes("--mode=root"));
  assert.ok(args.some((a) => a.startsWith("--include=") && a.includes("openssh-server")));
  assert.ok(args.includes("--dpkgopt=path-exclude=/usr/share/doc/*"));
  assert.deepEqual(args.slice(-3), ["bookworm", "/s/root", "http://m/debian"]);
});

test("checkMirror accepts http(s) URLs only", () => {
  checkMirror("http://deb.debian.org/debian");
  checkMirror("https://mirror.example/debian/");
  for (const bad of ["--customize-hook=rm -rf /", "ftp://x/debian", "deb.debian.org", ""]) {
    assert.throws(
      () => checkMirror(bad),
      (err) => isBangerError(err, "INVALID_ARGUMENT"),
    );
  }
});
