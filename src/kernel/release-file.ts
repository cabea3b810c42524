// Private: the archive's signed InRelease file: checking its signature and reading its hashes.
import { readFile } from "node:fs/promises";
import { BangerError } from "../errors/index.js";
import { run } from "../host/index.js";

export const DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
const GPGV_TIMEOUT_MS = 30_000;

export interface IndexFileHash {
  sha256: string;
  sizeBytes: number;
}

/**
 * Checks the clearsigned `inReleasePath` with gpgv against `keyringPath` and returns only the
 * text the signature covers: anything outside the signed block must never be parsed.
 */
export async function verifyInRelease(
  inReleasePath: string,
  verifiedPath: string,
  keyringPath: string,
  url: string,
  signal?: AbortSignal,
): Promise<string> {
  try {
    await run("gpgv", ["--keyring", keyringPath, "--output", verifiedPath, inReleasePath], {
      timeoutMs: GPGV_TIMEOUT_MS,
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (err) {
    if (err instanceof BangerError && err.code !== "SUBPROCESS_FAILED") throw err;
    throw new BangerError("KERNEL_CHECKSUM_MISMATCH", `cannot trust "${url}": bad signature`, {
      hint: "retry with another mirror; if it persists: apt-get install debian-archive-keyring",
      cause: err,
    });
  }
  return readFile(verifiedPath, "utf8");
}

/**
 * The SHA256 entry for `indexPath` (for example `main/binary-amd64/Packages.xz`) in a verified
 * Release text, or undefined when the file is not listed.
 */
export function findSha256(releaseText: string, indexPath: string): IndexFileHash | undefined {
  let inSha256 = false;
  for (const line of releaseText.split("\n")) {
    if (!line.startsWith(" ")) {
      inSha256 = line.trimEnd() === "SHA256:";
      continue;
    }
    if (!inSha256) continue;
    const [hash, size, file] = line.trim().split(/\s+/);
    if (file !== indexPath || hash === undefined || size === undefined) continue;
    if (!/^[0-9a-f]{64}$/.test(hash) || !/^\d+$/.test(size)) return undefined;
    return { sha256: hash, sizeBytes: Number(size) };
  }
  return undefined;
}
