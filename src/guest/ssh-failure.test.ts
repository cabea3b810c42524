import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import type { SshTarget } from "./ssh-args.js";
import { throwIfSshFailed } from "./ssh-failure.js";

const target: SshTarget = {
  host: "172.16.0.2",
  alias: "vm1",
  keyPath: "/k",
  knownHostsPath: "/kh",
};

// Captured from OpenSSH 9.2 with LogLevel=ERROR.
const CHANGED = [
  "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
  "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
  "The fingerprint for the ED25519 key sent by the remote host is",
  "SHA256:O6ZB0e9kJCIWmZGfU3IpagqVBmxJuLN03F+ctC3scuU.",
  "Host key for vm1 has changed and you have requested strict checking.",
  "Host key verification failed.",
].join("\n");
const UNKNOWN = [
  "No ED25519 host key is known for vm1 and you have requested strict checking.",
  "Host key verification failed.",
].join("\n");

test("a changed host key is VM_HOST_KEY_MISMATCH naming the offered fingerprint", () => {
  assert.throws(
    () => throwIfSshFailed(target, CHANGED),
    (err) =>
      isBangerError(err, "VM_HOST_KEY_MISMATCH") &&
      err.message.includes("SHA256:O6ZB0e9kJCIWmZGfU3IpagqVBmxJuLN03F+ctC3scuU") &&
      !err.message.includes("ssh-keygen"),
  );
});

test("a missing pin is VM_HOST_KEY_MISMATCH with a restart hint", () => {
  assert.throws(
    () => throwIfSshFailed(target, UNKNOWN),
    (err) => isBangerError(err, "VM_HOST_KEY_MISMATCH") && /restart vm1/.test(err.hint ?? ""),
  );
});

test("connection and login failures are VM_SSH_UNAVAILABLE with ssh's words", () => {
  const samples = [
    "ssh: connect to host 172.16.0.2 port 22: Connection refused",
    "ssh: connect to host 172.16.0.2 port 22: No route to host",
    "root@172.16.0.2: Permission denied (publickey).",
    "Connection closed by 172.16.0.2 port 22",
    "kex_exchange_identification: read: Connection reset by peer",
    "Connection timed out during banner exchange",
  ];
  for (const stderr of samples) {
    assert.throws(
      () => throwIfSshFailed(target, stderr),
      (err) => isBangerError(err, "VM_SSH_UNAVAILABLE") && err.message.includes(stderr),
      stderr,
    );
  }
});

test("a remote command's own status 255 is left alone", () => {
  assert.doesNotThrow(() => throwIfSshFailed(target, ""));
  assert.doesNotThrow(() => throwIfSshFailed(target, "make: *** [all] Error 255\n"));
});
