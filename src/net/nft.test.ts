import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { applyBridgeRules, bridgeRuleset } from "./nft.js";

test("the ruleset isolates the bridge and masquerades only NAT addresses", () => {
  const text = bridgeRuleset({ bridge: "banger0", natAddresses: ["172.16.0.3", "172.16.0.2"] });
  const lines = text.trimEnd().split("\n");
  assert.deepEqual(lines, [
    "add table ip banger",
    "add chain ip banger forward_banger0 { type filter hook forward priority filter; policy accept; }",
    "flush chain ip banger forward_banger0",
    'add rule ip banger forward_banger0 iifname "banger0" oifname "banger0" accept',
    'add rule ip banger forward_banger0 iifname "banger0" ip saddr 172.16.0.2 accept',
    'add rule ip banger forward_banger0 iifname "banger0" ip saddr 172.16.0.3 accept',
    'add rule ip banger forward_banger0 iifname "banger0" drop',
    'add rule ip banger forward_banger0 oifname "banger0" ct state established,related accept',
    'add rule ip banger forward_banger0 oifname "banger0" drop',
    "add chain ip banger postrouting_banger0 { type nat hook postrouting priority srcnat; policy accept; }",
    "flush chain ip banger postrouting_banger0",
    'add rule ip banger postrouting_banger0 oifname != "banger0" ip saddr 172.16.0.2 masquerade',
    'add rule ip banger postrouting_banger0 oifname != "banger0" ip saddr 172.16.0.3 masquerade',
  ]);
});

test("without NAT addresses the bridge still drops what leaves it, and nothing is masqueraded", () => {
  const text = bridgeRuleset({ bridge: "bangertest0", natAddresses: [] });
  assert.match(text, /iifname "bangertest0" drop/);
  assert.doesNotMatch(text, /masquerade|saddr/);
  assert.match(text, /flush chain ip banger postrouting_bangertest0\n$/);
});

test("only table ip banger is named, and duplicates collapse", () => {
  const text = bridgeRuleset({ bridge: "b0", natAddresses: ["10.0.0.2", "10.0.0.2"] });
  for (const line of text.trimEnd().split("\n")) assert.match(line, /^(add|flush) \w+ ip banger/);
  assert.equal(text.match(/masquerade/g)?.length, 1);
});

test("hostile addresses and bridge names never reach the script", () => {
  for (const bad of ["10.0.0.2; flush ruleset", "10.0.0.256", "010.0.0.1", "::1", "", "1.2.3"]) {
    assert.throws(
      () => bridgeRuleset({ bridge: "banger0", natAddresses: [bad] }),
      (e) => isBangerError(e, "INVALID_ARGUMENT"),
      bad,
    );
  }
  for (const bad of ['b" drop', "a b", "x".repeat(16), "-x"]) {
    assert.throws(
      () => bridgeRuleset({ bridge: bad, natAddresses: [] }),
      (e) => isBangerError(e, "INVALID_ARGUMENT"),
      bad,
    );
  }
});

async function fakeNft(body: string): Promise<{ nft: string; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "banger-nft-"));
  const nft = path.join(dir, "nft");
  await writeFile(nft, `#!/bin/sh\n${body}\n`);
  await chmod(nft, 0o755);
  return { nft, dir };
}

test("an nft the kernel refuses gives NETWORK_SETUP_FAILED naming nftables", async () => {
  const { nft } = await fakeNft(
    'cat >/dev/null; echo "Error: Could not process rule: No such file or directory" >&2; exit 1',
  );
  await assert.rejects(
    applyBridgeRules({ bridge: "banger0", natAddresses: ["172.16.0.2"] }, { nft }),
    (e) =>
      isBangerError(e, "NETWORK_SETUP_FAILED") &&
      /nftables rules of bridge "banger0": the kernel refused them/.test(e.message) &&
      /nf_tables/.test(e.hint ?? ""),
  );
});

test("a missing nft gives HOST_MISSING_TOOL with the package to install", async () => {
  const { dir } = await fakeNft("exit 0");
  await assert.rejects(
    applyBridgeRules({ bridge: "banger0", natAddresses: [] }, { nft: path.join(dir, "absent") }),
    (e) =>
      isBangerError(e, "HOST_MISSING_TOOL") &&
      /"nft" \(nftables\) is not installed/.test(e.message) &&
      e.hint === "apt-get install nftables",
  );
});

test("the script goes to nft -f - on stdin", async () => {
  const { nft, dir } = await fakeNft(
    `echo "$@" >"$(dirname "$0")/args"; cat >"$(dirname "$0")/in"`,
  );
  await applyBridgeRules({ bridge: "banger0", natAddresses: [] }, { nft });
  assert.equal(await readFile(path.join(dir, "args"), "utf8"), "-f -\n");
  assert.equal(
    await readFile(path.join(dir, "in"), "utf8"),
    bridgeRuleset({ bridge: "banger0", natAddresses: [] }),
  );
});
