import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { run } from "../host/index.js";
import { findSha256, verifyInRelease } from "./release-file.js";

const RELEASE = `Origin: Debian
Codename: bookworm
MD5Sum:
 b838d31986207780a596ce3e8010f90f  8790396 main/binary-amd64/Packages.xz
SHA256:
 1111111111111111111111111111111111111111111111111111111111111111  1234 main/binary-arm64/Packages.xz
 9e0b5aabb2465b3d2e7a7fe27f9913846277833f7a2826e7767acccff5b588c5  8790396 main/binary-amd64/Packages.xz
 2222222222222222222222222222222222222222222222222222222222222222  55 main/binary-amd64/Packages.xzz
`;

test("takes the SHA256 entry, not the MD5Sum one or a neighbour", () => {
  assert.deepEqual(findSha256(RELEASE, "main/binary-amd64/Packages.xz"), {
    sha256: "9e0b5aabb2465b3d2e7a7fe27f9913846277833f7a2826e7767acccff5b588c5",
    sizeBytes: 8790396,
  });
  assert.equal(findSha256(RELEASE, "main/binary-i386/Packages.xz"), undefined);
  assert.equal(
    findSha256(RELEASE.replace("SHA256:", "SHA1:"), "main/binary-amd64/Packages.xz"),
    undefined,
  );
});

test("gpgv accepts a good clearsigned InRelease and returns only the signed text", async (t) => {
  const dir = await signingSetup();
  t.after(() => cleanup(dir.home));
  // Text before the signed block must never reach the parser.
  await writeFile(dir.inRelease, `Injected: yes\n\n${await readFile(dir.inRelease, "utf8")}`);
  const text = await verifyInRelease(dir.inRelease, path.join(dir.home, "out"), dir.keyring, "u");
  assert.equal(text, RELEASE);
});

test("a tampered InRelease is refused with KERNEL_CHECKSUM_MISMATCH", async (t) => {
  const dir = await signingSetup();
  t.after(() => cleanup(dir.home));
  const signed = await readFile(dir.inRelease, "utf8");
  await writeFile(dir.inRelease, signed.replace("9e0b5aab", "00000000"));
  await assert.rejects(
    verifyInRelease(dir.inRelease, path.join(dir.home, "out"), dir.keyring, "http://m/InRelease"),
    (err) => isBangerError(err, "KERNEL_CHECKSUM_MISMATCH") && /bad signature/.test(err.message),
  );
});

// A throwaway key signs RELEASE the way the archive does (clearsign); gpgv then checks it
// against an exported keyring, as it checks the real file against debian-archive-keyring.
async function signingSetup(): Promise<{ home: string; inRelease: string; keyring: string }> {
  const home = await mkdtemp(path.join(tmpdir(), "banger-gpg-"));
  const env = { ...process.env, GNUPGHOME: home };
  const gpg = (args: string[], input?: string): ReturnType<typeof run> =>
    run("gpg", ["--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "", ...args], {
      env,
      ...(input === undefined ? {} : { input }),
      timeoutMs: 60_000,
    });
  await gpg(["--quick-gen-key", "banger-test <t@example.invalid>", "ed25519", "sign", "never"]);
  const keyring = path.join(home, "keyring.gpg");
  await gpg(["--output", keyring, "--export"]);
  const inRelease = path.join(home, "InRelease");
  await writeFile(path.join(home, "Release"), RELEASE);
  await gpg(["--output", inRelease, "--clearsign", path.join(home, "Release")]);
  return { home, inRelease, keyring };
}

async function cleanup(home: string): Promise<void> {
  await run("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: home } });
  await rm(home, { recursive: true, force: true });
}
