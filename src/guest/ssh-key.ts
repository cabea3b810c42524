import {
  chmod,
  link,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { BangerError, isBangerError, isErrno } from "../errors/index.js";
import { run } from "../host/index.js";
import type { Paths } from "../paths/index.js";
import { parsePublicKey } from "./ssh-public-key.js";

const KEYGEN_TIMEOUT_MS = 30_000;
const PRIVATE_MODE = 0o600;

/** banger's own client key pair. */
export interface SshKey {
  privateKeyPath: string;
  /** One line, `ssh-ed25519 <base64> <comment>`, for authorized_keys. */
  publicKey: string;
}

/**
 * Returns banger's ed25519 client key (`paths.sshKeyPath`), creating it with `ssh-keygen` on
 * first use. Idempotent and safe to call concurrently: one key wins and every caller gets it.
 * Private key 0600, no passphrase. Throws SUBPROCESS_FAILED or HOST_MISSING_TOOL.
 */
export async function ensureSshKey(paths: Paths): Promise<SshKey> {
  const publicKey = await ensureKeyPair(paths.sshKeyPath, "banger");
  return { privateKeyPath: paths.sshKeyPath, publicKey };
}

/**
 * Makes a VM's ed25519 host key at `keyPath` (public half at `<keyPath>.pub`) and returns the
 * public key line. Idempotent: an existing key is kept and its public half returned.
 */
export async function generateHostKey(keyPath: string): Promise<{ publicKey: string }> {
  return { publicKey: await ensureKeyPair(keyPath, "banger-vm-host") };
}

async function ensureKeyPair(keyPath: string, comment: string): Promise<string> {
  const existing = await readKeyPair(keyPath);
  if (existing !== undefined) return existing;

  const dir = path.dirname(keyPath);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Built aside and linked into place, so a crash never leaves half a key and two concurrent
  // callers cannot both win (link refuses to replace).
  const tmpDir = await mkdtemp(path.join(dir, ".keygen-"));
  try {
    const tmpKey = path.join(tmpDir, "key");
    await keygen(keyPath, ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", tmpKey]);
    try {
      await link(tmpKey, keyPath);
    } catch (err) {
      if (!isErrno(err, "EEXIST")) throw err;
      return (await readKeyPair(keyPath)) ?? (await publicKeyFromPrivate(keyPath));
    }
    await rename(`${tmpKey}.pub`, `${keyPath}.pub`);
    return await readPublicKey(`${keyPath}.pub`);
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}

/** The public key of an existing pair (rewriting a lost `.pub`), or undefined if none. */
async function readKeyPair(keyPath: string): Promise<string | undefined> {
  try {
    const info = await stat(keyPath);
    // ssh refuses a private key that others can read.
    if ((info.mode & 0o077) !== 0) await chmod(keyPath, PRIVATE_MODE);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  try {
    return await readPublicKey(`${keyPath}.pub`);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
  return await publicKeyFromPrivate(keyPath);
}

async function publicKeyFromPrivate(keyPath: string): Promise<string> {
  const { stdout } = await keygen(keyPath, ["-y", "-f", keyPath]);
  const publicKey = parsePublicKey(stdout, keyPath).line;
  const tmp = `${keyPath}.pub.${process.pid}.tmp`;
  await writeFile(tmp, `${publicKey}\n`, { mode: 0o644 });
  await rename(tmp, `${keyPath}.pub`);
  return publicKey;
}

async function readPublicKey(pubPath: string): Promise<string> {
  return parsePublicKey(await readFile(pubPath, "utf8"), pubPath).line;
}

async function keygen(keyPath: string, args: string[]): Promise<{ stdout: string }> {
  try {
    return await run("ssh-keygen", args, { timeoutMs: KEYGEN_TIMEOUT_MS });
  } catch (err) {
    if (!isBangerError(err, "SUBPROCESS_FAILED")) throw err;
    throw new BangerError("SUBPROCESS_FAILED", `cannot make SSH key "${keyPath}": ${err.message}`, {
      hint: "run `banger doctor` to check ssh-keygen and the state directory",
      cause: err,
    });
  }
}
