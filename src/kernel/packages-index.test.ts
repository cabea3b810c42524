import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { collectStanzas, kernelDependency, resolveKernelPackage } from "./packages-index.js";

const SHA_A = "a".repeat(64);
const SHA_B = "b".repeat(64);
const PACKAGES = `Package: linux-image-cloud-amd64
Source: linux-signed-amd64 (6.1.176+1)
Version: 6.1.176-1
Depends: linux-image-6.1.0-50-cloud-amd64 (= 6.1.176-1)
Description: Linux for x86-64 cloud (meta-package)
Filename: pool/main/l/linux-signed-amd64/linux-image-cloud-amd64_6.1.176-1_amd64.deb
Size: 1500
SHA256: ${SHA_A}

Package: hello
Version: 2.10-3
Description: example
 continued line
 .
 another
Filename: pool/main/h/hello/hello_2.10-3_amd64.deb
Size: 10
SHA256: ${SHA_A}

Package: linux-image-6.1.0-50-cloud-amd64
Version: 6.1.176-1
Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
Filename: pool/main/l/linux-signed-amd64/linux-image-6.1.0-50-cloud-amd64_6.1.176-1_amd64.deb
Size: 26484304
SHA256: ${SHA_B}
`;

async function stanzas(text = PACKAGES): ReturnType<typeof collectStanzas> {
  return collectStanzas(text.split("\n"), (n) => n.startsWith("linux-image-") || n === "hello");
}

test("parses stanzas, joins continuation lines and keeps only what is asked for", async () => {
  const all = await stanzas();
  assert.equal(all.length, 3);
  assert.equal(all[1]?.get("Description"), "example\ncontinued line\n.\nanother");
  const kernels = await collectStanzas(PACKAGES.split("\n"), (n) => n.startsWith("linux-"));
  assert.deepEqual(
    kernels.map((s) => s.get("Package")),
    ["linux-image-cloud-amd64", "linux-image-6.1.0-50-cloud-amd64"],
  );
});

test("resolves the metapackage to the concrete image with its pool path and hash", async () => {
  assert.deepEqual(resolveKernelPackage(await stanzas(), "linux-image-cloud-amd64"), {
    name: "linux-image-6.1.0-50-cloud-amd64",
    version: "6.1.176-1",
    filename: "pool/main/l/linux-signed-amd64/linux-image-6.1.0-50-cloud-amd64_6.1.176-1_amd64.deb",
    sizeBytes: 26484304,
    sha256: SHA_B,
  });
});

test("refuses a pinned version the index does not carry", async () => {
  const moved = PACKAGES.replace(
    "Version: 6.1.176-1\nDepends: kmod",
    "Version: 6.1.177-1\nDepends: kmod",
  );
  assert.throws(
    () => resolveKernelPackage([], "linux-image-cloud-amd64"),
    (err) => isBangerError(err, "KERNEL_FETCH_FAILED") && /not in the index/.test(err.message),
  );
  await assert.rejects(
    async () => resolveKernelPackage(await stanzas(moved), "linux-image-cloud-amd64"),
    /not in the index/,
  );
});

test("refuses a Filename outside pool/ and a malformed hash", async () => {
  const escape = PACKAGES.replace(
    "Filename: pool/main/l/linux-signed-amd64/linux-image-6.1.0-50",
    "Filename: pool/../../etc/linux-image-6.1.0-50",
  );
  await assert.rejects(
    async () => resolveKernelPackage(await stanzas(escape), "linux-image-cloud-amd64"),
    /unsafe Filename/,
  );
  const badHash = PACKAGES.replace(`SHA256: ${SHA_B}`, "SHA256: nothex");
  await assert.rejects(
    async () => resolveKernelPackage(await stanzas(badHash), "linux-image-cloud-amd64"),
    /SHA256/,
  );
});

test("reads the linux-image dependency, pinned or not, skipping other clauses", () => {
  assert.deepEqual(kernelDependency("linux-image-6.12.117+deb13-cloud-amd64 (= 6.12.117-1)"), {
    name: "linux-image-6.12.117+deb13-cloud-amd64",
    version: "6.12.117-1",
  });
  assert.deepEqual(kernelDependency("kmod, linux-image-6.1.0-9-cloud-amd64"), {
    name: "linux-image-6.1.0-9-cloud-amd64",
    version: undefined,
  });
  assert.equal(kernelDependency("kmod, linux-base (>= 4.3~)"), undefined);
});
