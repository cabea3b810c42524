// Private: manifests, indexes and image configs (Docker v2 and OCI), validated as hostile input,
// and the choice of the linux/amd64 image from a multi-arch index.
import { z } from "zod";
import { BangerError } from "../errors/index.js";

export const MEDIA = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
} as const;

export const MANIFEST_ACCEPT = [
  MEDIA.ociIndex,
  MEDIA.dockerList,
  MEDIA.ociManifest,
  MEDIA.dockerManifest,
] as const;

/** Layer media types banger can apply, by the compression they declare. */
const LAYER_TYPES: Record<string, LayerCompression> = {
  "application/vnd.oci.image.layer.v1.tar": "none",
  "application/vnd.oci.image.layer.v1.tar+gzip": "gzip",
  "application/vnd.oci.image.layer.v1.tar+zstd": "zstd",
  "application/vnd.docker.image.rootfs.diff.tar.gzip": "gzip",
  "application/vnd.docker.image.rootfs.diff.tar": "none",
};

export type LayerCompression = "none" | "gzip" | "zstd";

export const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_BLOB_BYTES = 64 * 1024 ** 3;

const descriptor = z.object({
  mediaType: z.string().max(255),
  digest: z.string().regex(DIGEST, "a digest must be sha256:<64 hex>"),
  size: z.number().int().nonnegative().max(MAX_BLOB_BYTES),
  platform: z
    .object({ os: z.string(), architecture: z.string(), variant: z.string().optional() })
    .optional(),
});

export type Descriptor = z.infer<typeof descriptor>;

const indexSchema = z.object({ manifests: z.array(descriptor).max(1000) });
const manifestSchema = z.object({
  config: descriptor,
  layers: z.array(descriptor).max(500),
});

export type ImageManifest = z.infer<typeof manifestSchema>;

const configSchema = z.object({
  architecture: z.string().optional(),
  os: z.string().optional(),
  config: z
    .object({
      Env: z.array(z.string()).nullish(),
      Cmd: z.array(z.string()).nullish(),
      Entrypoint: z.array(z.string()).nullish(),
      WorkingDir: z.string().nullish(),
      User: z.string().nullish(),
    })
    .nullish(),
  rootfs: z.object({ type: z.string(), diff_ids: z.array(z.string().regex(DIGEST)) }),
});

/** What an image config says about running the image; fields absent when the image has none. */
export interface ImageConfig {
  architecture: string | undefined;
  os: string | undefined;
  env: string[];
  cmd: string[];
  entrypoint: string[];
  workingDir: string | undefined;
  user: string | undefined;
  /** SHA-256 of each uncompressed layer, in order. */
  diffIds: string[];
}

export type ParsedManifest =
  { kind: "index"; manifests: Descriptor[] } | { kind: "image"; manifest: ImageManifest };

/** Parses a manifest body; `mediaType` comes from the body, else the Content-Type header. */
export function parseManifest(
  body: Buffer,
  contentType: string | null,
  where: string,
): ParsedManifest {
  const json = parseJson(body, where);
  const declared = (json as { mediaType?: unknown }).mediaType;
  const type = typeof declared === "string" ? declared : (contentType ?? "").split(";")[0]?.trim();
  if (type === MEDIA.ociIndex || type === MEDIA.dockerList) {
    return { kind: "index", manifests: validate(indexSchema, json, where).manifests };
  }
  if (type === MEDIA.ociManifest || type === MEDIA.dockerManifest) {
    return { kind: "image", manifest: validate(manifestSchema, json, where) };
  }
  throw unsupported(
    `${where} has media type "${String(type)}"`,
    "banger reads Docker v2 and OCI images",
  );
}

/** The linux/amd64 entry of an index; attestation entries ("unknown/unknown") never match. */
export function pickPlatform(manifests: Descriptor[], where: string): Descriptor {
  const found = manifests.find(
    (m) => m.platform?.os === "linux" && m.platform.architecture === "amd64",
  );
  if (found !== undefined) return found;
  const have = manifests
    .map((m) =>
      m.platform === undefined ? "unknown" : `${m.platform.os}/${m.platform.architecture}`,
    )
    .join(", ");
  throw unsupported(
    `${where} has no linux/amd64 image (it has: ${have || "none"})`,
    "pick a tag built for linux/amd64",
  );
}

export function parseConfig(body: Buffer, where: string): ImageConfig {
  const c = validate(configSchema, parseJson(body, where), where);
  if (c.os !== undefined && c.os !== "linux")
    throw unsupported(`${where} is for OS "${c.os}"`, "pick a linux/amd64 image");
  if (c.architecture !== undefined && c.architecture !== "amd64") {
    throw unsupported(
      `${where} is for architecture "${c.architecture}"`,
      "pick a linux/amd64 image",
    );
  }
  return {
    architecture: c.architecture,
    os: c.os,
    env: c.config?.Env ?? [],
    cmd: c.config?.Cmd ?? [],
    entrypoint: c.config?.Entrypoint ?? [],
    workingDir: c.config?.WorkingDir ?? undefined,
    user: c.config?.User ?? undefined,
    diffIds: c.rootfs.diff_ids,
  };
}

export function layerCompression(layer: Descriptor, where: string): LayerCompression {
  const kind = LAYER_TYPES[layer.mediaType];
  if (kind === undefined) {
    throw unsupported(
      `${where} has layer media type "${layer.mediaType}"`,
      "banger applies tar layers, plain, gzip or zstd",
    );
  }
  return kind;
}

function parseJson(body: Buffer, where: string): unknown {
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch (err) {
    throw new BangerError("REGISTRY_FAILED", `cannot read ${where}: not JSON`, { cause: err });
  }
}

function validate<T>(schema: z.ZodType<T>, json: unknown, where: string): T {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const at = issue === undefined ? "" : `${issue.path.join(".")}: ${issue.message}`;
  throw new BangerError("REGISTRY_FAILED", `cannot read ${where}: ${at}`, {
    hint: "the registry served a malformed manifest; try another tag",
  });
}

function unsupported(what: string, hint: string): BangerError {
  return new BangerError("IMAGE_UNSUPPORTED", `cannot use image: ${what}`, { hint });
}
