import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { quoteShellWord, remoteCommandLine } from "./shell-quote.js";

// What a POSIX shell makes of a command line: run it through sh and print each argument.
function wordsAsShellSeesThem(line: string): string[] {
  const out = execFileSync("sh", ["-c", `for a in ${line}; do printf '%s\\0' "$a"; done`], {
    encoding: "utf8",
  });
  return out.split("\0").slice(0, -1);
}

test("plain words stay readable", () => {
  assert.equal(quoteShellWord("echo"), "echo");
  assert.equal(quoteShellWord("/root/my-repo"), "/root/my-repo");
  assert.equal(remoteCommandLine(["systemctl", "poweroff"]), "systemctl poweroff");
});

test("single quotes, empty words and specials are quoted", () => {
  assert.equal(quoteShellWord(""), "''");
  assert.equal(quoteShellWord("exit 7"), "'exit 7'");
  assert.equal(quoteShellWord("it's"), `'it'\\''s'`);
  assert.equal(remoteCommandLine(["sh", "-c", "exit 7"]), "sh -c 'exit 7'");
  assert.equal(remoteCommandLine(["A=b", "if"]), "'A=b' 'if'");
});

test("a command named like an assignment or a keyword still runs as a command", () => {
  const run = (line: string): string =>
    execFileSync("sh", ["-c", `${line} 2>&1 || echo "status $?"`], { encoding: "utf8" });
  assert.match(run(remoteCommandLine(["A=b"])), /not found|status 127/);
  assert.match(run(remoteCommandLine(["if"])), /not found|status 127/);
});

test("every awkward word survives a real POSIX shell unchanged", () => {
  const words = [
    "plain",
    "",
    "with space",
    "it's",
    "''",
    `"double"`,
    "$HOME",
    "$(id)",
    "`id`",
    "a\nb",
    "tab\there",
    "back\\slash",
    "glob*?[a]",
    "~root",
    "semi;colon&&amp|pipe>redir<in",
    "#not-a-comment",
    "-n",
    "ünïcödé",
    "!bang",
    "if",
    "A=b",
    "%1",
  ];
  assert.deepEqual(wordsAsShellSeesThem(remoteCommandLine(words)), words);
});
