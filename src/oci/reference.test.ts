import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { defaultImageName, formatReference, parseReference } from "./reference.js";

test("references get Docker's defaults", () => {
  assert.deepEqual(parseReference("debian"), {
    registry: "docker.io",
    repository: "library/debian",
    tag: "latest",
  });
  assert.deepEqual(parseReference("library/debian:12"), {
    registry: "docker.io",
    repository: "library/debian",
    tag: "12",
  });
  assert.deepEqual(parseReference("ghcr.io/o/n:tag"), {
    registry: "ghcr.io",
    repository: "o/n",
    tag: "tag",
  });
  assert.deepEqual(parseReference("index.docker.io/user/app"), {
    registry: "docker.io",
    repository: "user/app",
    tag: "latest",
  });
  assert.deepEqual(parseReference("localhost/app:v1"), {
    registry: "localhost",
    repository: "app",
    tag: "v1",
  });
});

test("a registry with a port is not mistaken for a tag, and digests are kept", () => {
  const digest = `sha256:${"ab".repeat(32)}`;
  assert.deepEqual(parseReference(`host:5000/n@${digest}`), {
    registry: "host:5000",
    repository: "n",
    digest,
  });
  assert.deepEqual(parseReference("127.0.0.1:5000/a/b:c"), {
    registry: "127.0.0.1:5000",
    repository: "a/b",
    tag: "c",
  });
  assert.equal(formatReference(parseReference(`x.io/n:t@${digest}`)), `x.io/n:t@${digest}`);
});

test("bad references fail with INVALID_ARGUMENT naming the input", () => {
  for (const bad of ["Debian", "debian:", "a/../b", "n@sha256:12", "x..y/z", "", "a//b", "-a"]) {
    assert.throws(
      () => parseReference(bad),
      (err) => isBangerError(err, "INVALID_ARGUMENT") && err.message.includes(`"${bad}"`),
      bad,
    );
  }
});

test("default image names are DNS labels derived from the reference", () => {
  assert.equal(defaultImageName("debian:bookworm"), "debian-bookworm");
  assert.equal(defaultImageName("library/debian:12"), "debian-12");
  assert.equal(defaultImageName("ghcr.io/o/n:tag"), "n-tag");
  assert.equal(defaultImageName("alpine"), "alpine");
  assert.equal(defaultImageName("x.io/app:V1.2_rc"), "app-v1-2-rc");
  assert.equal(defaultImageName(`h:5/n@sha256:${"0f".repeat(32)}`), "n-0f0f0f0f0f0f");
  assert.match(defaultImageName(`a/${"b".repeat(100)}:t`), /^b{63}$/);
});
