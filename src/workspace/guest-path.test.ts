import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { checkGuestPath, defaultGuestPath, previousPath, stagingPath } from "./guest-path.js";

test("the default guest path is /root/<name of the work tree>", () => {
  assert.equal(defaultGuestPath("/home/me/src/my repo"), "/root/my repo");
});

test("guest paths below a top-level directory are accepted as they are", () => {
  for (const ok of ["/root/repo", "/srv/a b/ç", "/root/-x"]) assert.equal(checkGuestPath(ok), ok);
});

test("relative, top-level, unnormalised or multi-line guest paths are refused", () => {
  for (const bad of [
    "repo",
    "/",
    "/root",
    "/root/",
    "/root/../etc",
    "/root//x",
    "/root/a\nb",
    "",
  ]) {
    assert.throws(
      () => checkGuestPath(bad),
      (err) => isBangerError(err, "INVALID_ARGUMENT"),
      bad,
    );
  }
});

test("staging and aside paths are fresh siblings of the workspace", () => {
  const a = stagingPath("/root/repo");
  assert.match(a, /^\/root\/repo\.banger-tmp-[0-9a-f]{8}$/);
  assert.notEqual(a, stagingPath("/root/repo"));
  assert.match(previousPath("/root/repo"), /^\/root\/repo\.banger-old-[0-9a-f]{8}$/);
});
