import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { defaultDockerConfigPath, findCredentials } from "./docker-config.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "oci-docker-config-"));
});
after(() => rm(dir, { recursive: true, force: true }));

const b64 = (s: string): string => Buffer.from(s).toString("base64");

test("credentials come from auths, matched by host the way docker login writes them", async () => {
  const file = path.join(dir, "config.json");
  const auths = {
    "https://index.docker.io/v1/": { auth: b64("hub:pw") },
    "reg.example:5000": { auth: b64("me:pa:ss") },
    "https://ghcr.io": { username: "gh", password: "tok" },
  };
  await writeFile(file, JSON.stringify({ auths, credsStore: "desktop" }));
  assert.deepEqual(await findCredentials("docker.io", file), { username: "hub", password: "pw" });
  assert.deepEqual(await findCredentials("reg.example:5000", file), {
    username: "me",
    password: "pa:ss",
  });
  assert.deepEqual(await findCredentials("ghcr.io", file), { username: "gh", password: "tok" });
  assert.equal(await findCredentials("reg.example", file), undefined);
  assert.equal(await findCredentials("docker.io", path.join(dir, "absent.json")), undefined);
});

test("a config that does not parse fails with CONFIG_INVALID naming the file", async () => {
  const file = path.join(dir, "bad.json");
  await writeFile(file, "{ nope");
  await assert.rejects(
    findCredentials("docker.io", file),
    (err) => isBangerError(err, "CONFIG_INVALID") && err.message.includes(file),
  );
  await writeFile(file, JSON.stringify({ auths: { "x.io": { auth: b64("nocolon") } } }));
  await assert.rejects(findCredentials("x.io", file), (err) =>
    isBangerError(err, "CONFIG_INVALID"),
  );
});

test("DOCKER_CONFIG moves the config file", () => {
  assert.equal(defaultDockerConfigPath({ DOCKER_CONFIG: "/etc/d" }), "/etc/d/config.json");
  assert.match(defaultDockerConfigPath({}), /\.docker\/config\.json$/);
});
