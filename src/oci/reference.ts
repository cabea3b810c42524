// Private: image references as Docker writes them, with Docker's defaults.
import { BangerError } from "../errors/index.js";

export const DOCKER_HUB = "docker.io";

/** A parsed reference. `tag` is "latest" when the reference names neither tag nor digest. */
export interface ImageReference {
  /** `docker.io`, `ghcr.io`, `127.0.0.1:5000` (host, optional port). */
  registry: string;
  /** `library/debian`, `o/n`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>`. */
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST_LABEL = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
const HOST = new RegExp(
  `^(?:${HOST_LABEL}(?:\\.${HOST_LABEL})*|\\[[0-9a-fA-F:]+\\])(?::\\d{1,5})?$`,
);
const MAX_NAME_CHARS = 255;

export function parseReference(input: string): ImageReference {
  const fail = (why: string): never => {
    throw new BangerError("INVALID_ARGUMENT", `invalid image reference "${input}": ${why}`, {
      hint: "write it as Docker does, e.g. debian:bookworm or ghcr.io/owner/name:tag",
    });
  };
  let rest = input.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) fail(`digest "${digest}" is not sha256:<64 hex digits>`);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(`tag "${tag}" is not valid`);
  }

  const parts = rest.split("/");
  let registry = DOCKER_HUB;
  const first = parts[0] ?? "";
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first;
    parts.shift();
    if (!HOST.test(registry)) fail(`registry "${registry}" is not a host name`);
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift("library");

  const repository = parts.join("/");
  if (parts.some((p) => !COMPONENT.test(p))) {
    fail(`repository "${repository}" must be lowercase [a-z0-9] parts joined by . _ - or /`);
  }
  if (repository.length > MAX_NAME_CHARS) fail(`repository longer than ${MAX_NAME_CHARS} chars`);

  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = "latest";
  return ref;
}

/** The canonical string, e.g. `docker.io/library/debian:bookworm`. */
export function formatReference(ref: ImageReference): string {
  const tag = ref.tag === undefined ? "" : `:${ref.tag}`;
  const digest = ref.digest === undefined ? "" : `@${ref.digest}`;
  return `${ref.registry}/${ref.repository}${tag}${digest}`;
}

const MAX_LABEL_CHARS = 63;

export function defaultImageName(input: string | ImageReference): string {
  const ref = typeof input === "string" ? parseReference(input) : input;
  const base = ref.repository.split("/").pop() ?? "image";
  let suffix = "";
  if (ref.tag !== undefined && ref.tag !== "latest") suffix = ref.tag;
  else if (ref.digest !== undefined) suffix = ref.digest.slice("sha256:".length, 19);
  const label = [base, suffix]
    .filter((s) => s !== "")
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .slice(0, MAX_LABEL_CHARS)
    .replace(/^-+|-+$/g, "");
  return label === "" ? "image" : label;
}
