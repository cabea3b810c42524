// Private: what a reference names right now, without downloading any layer, so a caller can
// tell whether an image it already has is up to date.
import { defaultDockerConfigPath, findCredentials } from "./docker-config.js";
import { formatReference, parseReference, type ImageReference } from "./reference.js";
import { resolveManifest } from "./resolve-manifest.js";
import { createRegistryClient } from "./registry-client.js";

export interface ResolveDigestOptions {
  ref: string | ImageReference;
  insecure?: boolean;
  signal?: AbortSignal;
  dockerConfigPath?: string;
}

export async function resolveDigest(
  opts: ResolveDigestOptions,
): Promise<{ ref: string; digest: string }> {
  const ref = typeof opts.ref === "string" ? parseReference(opts.ref) : opts.ref;
  const credentials = await findCredentials(
    ref.registry,
    opts.dockerConfigPath ?? defaultDockerConfigPath(),
  );
  const client = createRegistryClient({
    ref,
    insecure: opts.insecure === true,
    credentials,
    signal: opts.signal,
  });
  const resolved = await resolveManifest(client, ref);
  return { ref: formatReference(ref), digest: resolved.digest };
}
