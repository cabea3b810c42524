import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { packageManagerFor, renderFirstBootScript, type PackageManager } from "./first-boot.js";

test("packageManagerFor reads ID, then ID_LIKE", () => {
  assert.equal(packageManagerFor("ID=debian\n"), "apt");
  assert.equal(packageManagerFor('ID="ubuntu"\nID_LIKE=debian\n'), "apt");
  assert.equal(packageManagerFor("ID=alpine\n"), "apk");
  assert.equal(packageManagerFor('ID="opensuse-leap"\nID_LIKE="suse opensuse"\n'), "zypper");
  assert.equal(packageManagerFor("ID=archarm\nID_LIKE=arch\n"), "pacman");
  assert.equal(packageManagerFor('ID=mylinux\nID_LIKE="rhel fedora"\n'), "dnf");
  assert.equal(packageManagerFor("ID=plan9\n"), undefined);
  assert.equal(packageManagerFor(""), undefined);
});

test("every first-boot script is valid sh and names its package manager", () => {
  const managers: PackageManager[] = ["apt", "apk", "dnf", "pacman", "zypper"];
  for (const pm of managers) {
    const script = renderFirstBootScript(pm);
    assert.ok(!script.includes("@"), `${pm}: no placeholder left`);
    const check = spawnSync("sh", ["-n"], { input: script });
    assert.equal(check.status, 0, `${pm}: ${check.stderr.toString()}`);
    const tool = pm === "apt" ? "apt-get" : pm;
    assert.match(script, new RegExp(`\\( ${tool} `));
  }
});
