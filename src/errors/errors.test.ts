import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { BangerError, causeChain, ERROR_CODES, exitCodeFor, httpStatusFor } from "./index.js";

test("docs/errors.md lists every code with its HTTP status and exit code", () => {
  const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
  for (const [code, { http, exit }] of Object.entries(ERROR_CODES)) {
    const row = new RegExp(`^\\| \`${code}\` +\\| ${http} +\\| ${exit} +\\|`, "m");
    assert.match(doc, row, `docs/errors.md row for ${code}`);
  }
});

test("usage errors exit 2, config 3, daemon 4, interrupted 130", () => {
  assert.equal(exitCodeFor("INVALID_NAME"), 2);
  assert.equal(exitCodeFor("CONFIG_INVALID"), 3);
  assert.equal(exitCodeFor("DAEMON_UNREACHABLE"), 4);
  assert.equal(exitCodeFor("INTERRUPTED"), 130);
  assert.equal(httpStatusFor("VM_NOT_FOUND"), 404);
});

test("the cause chain lists each message once, outermost first", () => {
  const inner = new Error("ENOSPC: no space left");
  const err = new BangerError("NO_SPACE", "cannot create disk", {
    cause: inner,
    hint: "free space",
  });
  assert.deepEqual(causeChain(err), ["cannot create disk", "ENOSPC: no space left"]);
  assert.equal(err.hint, "free space");
});
