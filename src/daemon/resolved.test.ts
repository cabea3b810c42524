import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { hasResolved, routeArgv, unrouteArgv } from "./resolved.js";

test("~vm is routed to the bridge address on the bridge link, and reverted there", () => {
  assert.deepEqual(routeArgv("banger0", "172.16.0.1"), [
    ["dns", "banger0", "172.16.0.1"],
    ["domain", "banger0", "~vm"],
  ]);
  assert.deepEqual(unrouteArgv("banger0"), [["revert", "banger0"]]);
});

test("no systemd-resolved without its run directory", async () => {
  const empty = await mkdtemp(path.join(os.tmpdir(), "banger-resolved-"));
  assert.equal(await hasResolved(path.join(empty, "absent")), false);
});
