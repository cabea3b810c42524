import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { hostDefaults, parseConfig } from "./config.js";

const host = { cpus: 32, memoryMib: 128 * 1024 };

test("host defaults: a quarter of the CPUs up to 4, an eighth of the memory up to 8 GiB", () => {
  assert.deepEqual(hostDefaults({ cpus: 2, memoryMib: 24 * 1024 }), { vcpus: 1, memoryMib: 3072 });
  assert.deepEqual(hostDefaults({ cpus: 8, memoryMib: 16 * 1024 }), { vcpus: 2, memoryMib: 2048 });
  assert.deepEqual(hostDefaults(host), { vcpus: 4, memoryMib: 8192 });
  assert.deepEqual(hostDefaults({ cpus: 1, memoryMib: 1024 }), { vcpus: 1, memoryMib: 512 });
});

test("an empty config gives host and built-in defaults, and says where each came from", () => {
  const c = parseConfig("", "/etc/banger/config.toml", host);
  assert.equal(c.defaults.vcpus, 4);
  assert.equal(c.defaults.image, "debian-bookworm");
  assert.equal(c.network.bridge, "banger0");
  assert.equal(c.network.cidr, "172.16.0.1/24");
  assert.deepEqual(c.origins, {
    vcpus: "host",
    memoryMib: "host",
    diskSizeMib: "built-in",
    image: "built-in",
    kernel: "built-in",
  });
});

test("config values override, with sizes parsed", () => {
  const c = parseConfig(
    `accel = "tcg"\nboot_timeout = "90s"\n[defaults]\nvcpus = 2\nmemory = "1G"\n[network]\nbridge = "bt0"\n`,
    "c.toml",
    host,
  );
  assert.equal(c.accel, "tcg");
  assert.equal(c.bootTimeoutMs, 90_000);
  assert.equal(c.defaults.memoryMib, 1024);
  assert.equal(c.origins.memoryMib, "config");
  assert.equal(c.network.bridge, "bt0");
});

test("bad config: not TOML, unknown keys and bad values are CONFIG_INVALID naming the file and key", () => {
  const cases: [string, RegExp][] = [
    ["vcpus = ", /not valid TOML/],
    ["colour = 1", /invalid config "c.toml"/],
    ['[defaults]\nmemory = "huge"', /defaults.memory/],
    ['accel = "fast"', /accel/],
    ["[defaults]\nvcpus = 0", /defaults.vcpus 0 is out of range/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseConfig(text, "c.toml", host),
      (err) => isBangerError(err, "CONFIG_INVALID") && re.test(err.message),
      text,
    );
  }
});
