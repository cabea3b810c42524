// Private: a reference resolved to its linux/amd64 image manifest, through an index when the
// reference names one; every manifest is hashed, and checked when fetched by digest.
import { createHash } from "node:crypto";
import { BangerError } from "../errors/index.js";
import {
  DIGEST,
  MANIFEST_ACCEPT,
  parseManifest,
  pickPlatform,
  type ImageManifest,
  type ParsedManifest,
} from "./manifest.js";
import { formatReference, type ImageReference } from "./reference.js";
import { readBytes, type RegistryClient } from "./registry-client.js";

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface ResolvedManifest {
  /** Digest of what the reference named (an index or an image manifest). */
  digest: string;
  /** Digest of the linux/amd64 image manifest. */
  manifestDigest: string;
  manifest: ImageManifest;
}

export async function resolveManifest(
  client: RegistryClient,
  ref: ImageReference,
): Promise<ResolvedManifest> {
  const wanted = ref.digest ?? ref.tag ?? "latest";
  const top = await fetchManifest(
    client,
    wanted,
    ref.digest === undefined ? `tag "${wanted}"` : `manifest "${wanted}"`,
  );
  if (top.parsed.kind === "image") {
    return { digest: top.digest, manifestDigest: top.digest, manifest: top.parsed.manifest };
  }
  const where = `index "${top.digest}" of "${formatReference(ref)}"`;
  const chosen = pickPlatform(top.parsed.manifests, where);
  const inner = await fetchManifest(client, chosen.digest, `manifest "${chosen.digest}"`);
  if (inner.parsed.kind !== "image") {
    throw new BangerError(
      "IMAGE_UNSUPPORTED",
      `cannot use ${where}: its linux/amd64 entry is another index`,
      {
        hint: "pick a tag that names an image",
      },
    );
  }
  return { digest: top.digest, manifestDigest: inner.digest, manifest: inner.parsed.manifest };
}

async function fetchManifest(
  client: RegistryClient,
  tagOrDigest: string,
  what: string,
): Promise<{ digest: string; parsed: ParsedManifest }> {
  const res = await client.get(`manifests/${tagOrDigest}`, MANIFEST_ACCEPT, what);
  const body = await readBytes(res, MAX_MANIFEST_BYTES).catch((err: unknown) => {
    throw new BangerError(
      "REGISTRY_FAILED",
      `cannot read ${what} from registry "${client.registry}"`,
      { cause: err },
    );
  });
  const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
  if (DIGEST.test(tagOrDigest) && digest !== tagOrDigest) {
    throw new BangerError(
      "IMAGE_DIGEST_MISMATCH",
      `${what} from registry "${client.registry}" hashes to "${digest}"`,
      { hint: "retry; if it fails again the registry or a proxy serves corrupt data" },
    );
  }
  return { digest, parsed: parseManifest(body, res.headers.get("content-type"), what) };
}
