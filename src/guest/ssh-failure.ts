import { BangerError } from "../errors/index.js";
import { tailLines } from "../host/index.js";
import type { SshTarget } from "./ssh-args.js";

// ssh exits 255 for its own failures; these stderr lines tell those apart from a remote
// command that exits 255 itself.
const HOST_KEY_FAILED = /^Host key verification failed\.?$/m;
const HOST_KEY_UNKNOWN = /^No \S+ host key is known for /m;
const SSH_FAILED =
  /^ssh: |Permission denied \(|^Connection (closed|reset|timed out)|kex_exchange_identification|banner exchange/m;
const FINGERPRINT = /SHA256:[A-Za-z0-9+/]+/;
const STDERR_TAIL_LINES = 5;

/**
 * Throws when the stderr of an ssh that exited 255 shows that ssh itself failed:
 * VM_HOST_KEY_MISMATCH when the guest's host key is not the pinned one (or none is pinned),
 * VM_SSH_UNAVAILABLE for connection and login failures. Returns when the 255 came from the
 * remote command.
 */
export function throwIfSshFailed(target: SshTarget, stderr: string): void {
  const vm = `VM "${target.alias}" at "${target.host}"`;
  if (HOST_KEY_UNKNOWN.test(stderr)) {
    throw new BangerError("VM_HOST_KEY_MISMATCH", `cannot trust ${vm}: no host key is pinned`, {
      hint: `restart it to pin its key again: \`banger vm restart ${target.alias}\``,
    });
  }
  if (HOST_KEY_FAILED.test(stderr)) {
    const offered = FINGERPRINT.exec(stderr)?.[0];
    const why = `its SSH host key${offered ? ` ${offered}` : ""} is not the one banger pinned`;
    throw new BangerError("VM_HOST_KEY_MISMATCH", `cannot trust ${vm}: ${why}`, {
      hint: `do not use this VM; see its console with \`banger vm logs ${target.alias}\``,
    });
  }
  if (SSH_FAILED.test(stderr)) {
    const tail = tailLines(stderr, STDERR_TAIL_LINES);
    throw new BangerError("VM_SSH_UNAVAILABLE", `cannot reach ${vm} over SSH:\n${tail}`, {
      hint: `check the VM with \`banger vm show ${target.alias}\``,
    });
  }
}
