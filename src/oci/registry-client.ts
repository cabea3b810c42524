// Private: HTTP to one repository of a registry: anonymous, bearer-token and basic auth, bounded
// retries on 429 and 5xx, and errors that name the registry.
import { EnvHttpProxyAgent, fetch as undiciFetch } from "undici";
import { BangerError } from "../errors/index.js";
import type { Credentials } from "./docker-config.js";
import { isTransient, unreachable } from "./fetch-errors.js";
import type { ImageReference } from "./reference.js";
import { parseChallenge, type Challenge } from "./www-authenticate.js";

/** Longest wait for connect, TLS and response headers of one request. */
export const HEADERS_TIMEOUT_MS = 10_000;
const MAX_ATTEMPTS = 4;
const BACKOFF_MS = [500, 1000, 2000];
const MAX_RETRY_AFTER_MS = 10_000;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface RegistryClientOptions {
  ref: ImageReference;
  /** Plain HTTP (and no TLS checks); loopback registries always use plain HTTP. */
  insecure: boolean;
  credentials: Credentials | undefined;
  signal: AbortSignal | undefined;
  /** Overrides the retry waits, for tests. */
  backoffMs?: readonly number[];
}

export interface RegistryClient {
  readonly registry: string;
  /**
   * GETs `/v2/<repository>/<suffix>` and returns the 2xx response, its body unread. `what`
   * names the object for a 404 ("tag \"12\"").
   */
  get(
    suffix: string,
    accept: readonly string[],
    what: string,
    signal?: AbortSignal,
  ): Promise<Response>;
}

export function registryBaseUrl(registry: string, insecure: boolean): string {
  const host = registry === "docker.io" ? "registry-1.docker.io" : registry;
  return `${insecure || isLoopback(registry) ? "http" : "https"}://${host}`;
}

function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function createRegistryClient(opts: RegistryClientOptions): RegistryClient {
  const { registry, repository } = opts.ref;
  const base = registryBaseUrl(registry, opts.insecure);
  let authorization: string | undefined;
  const backoff = opts.backoffMs ?? BACKOFF_MS;

  const send = async (
    url: string,
    accept: readonly string[],
    signal?: AbortSignal,
  ): Promise<Response> => {
    const headers: Record<string, string> = { accept: accept.join(", ") };
    if (authorization !== undefined) headers["authorization"] = authorization;
    return fetchWithDeadline(registry, url, headers, [opts.signal, signal]);
  };

  const get = async (
    suffix: string,
    accept: readonly string[],
    what: string,
    signal?: AbortSignal,
  ): Promise<Response> => {
    const url = `${base}/v2/${repository}/${suffix}`;
    let authTried = false;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await send(url, accept, signal);
      } catch (err) {
        if (attempt < MAX_ATTEMPTS && isTransient(err)) {
          await sleep(backoff[attempt - 1] ?? 2000, opts.signal);
          continue;
        }
        throw err;
      }
      if (res.status === 401 && !authTried) {
        authTried = true;
        const challenge = parseChallenge(res.headers.get("www-authenticate"));
        await res.body?.cancel();
        authorization = await authorize(opts, challenge, [opts.signal, signal]);
        attempt--;
        continue;
      }
      if ((res.status === 429 || res.status >= 500) && attempt < MAX_ATTEMPTS) {
        const wait = retryAfterMs(res) ?? backoff[attempt - 1] ?? 2000;
        await res.body?.cancel();
        await sleep(wait, opts.signal);
        continue;
      }
      if (res.ok) return res;
      throw await failure(opts.ref, res, what);
    }
  };
  return { registry, get };
}

/** The Authorization header value the challenge asks for. */
async function authorize(
  opts: RegistryClientOptions,
  challenge: Challenge | undefined,
  signals: (AbortSignal | undefined)[],
): Promise<string> {
  const { registry, repository } = opts.ref;
  const creds = opts.credentials;
  if (challenge?.scheme === "basic") {
    if (creds === undefined) throw unauthorized(opts.ref, "it asks for a user name and password");
    return basic(creds);
  }
  if (challenge?.scheme !== "bearer" || challenge.params["realm"] === undefined) {
    throw unauthorized(opts.ref, "it asks for an authentication scheme banger does not speak");
  }
  const realm = new URL(challenge.params["realm"]);
  if (realm.protocol !== "https:" && realm.protocol !== "http:") {
    throw unauthorized(opts.ref, `its token realm "${realm.href}" is not HTTP(S)`);
  }
  if (challenge.params["service"] !== undefined) {
    realm.searchParams.set("service", challenge.params["service"]);
  }
  realm.searchParams.set("scope", challenge.params["scope"] ?? `repository:${repository}:pull`);

  const headers: Record<string, string> = { accept: "application/json" };
  // Credentials travel only over TLS, or to a registry the caller declared plain HTTP.
  const safe = realm.protocol === "https:" || opts.insecure || isLoopback(realm.host);
  if (creds !== undefined && safe) headers["authorization"] = basic(creds);
  const res = await fetchWithDeadline(registry, realm.href, headers, signals);
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw unauthorized(opts.ref, `its token service answered HTTP ${res.status}`);
  }
  const body = (await readLimited(res, MAX_ERROR_BODY_BYTES)) as {
    token?: unknown;
    access_token?: unknown;
  };
  const token = typeof body.token === "string" ? body.token : body.access_token;
  if (!res.ok || typeof token !== "string" || token === "") {
    throw new BangerError(
      "REGISTRY_FAILED",
      `cannot get a token from "${realm.origin}" for registry "${registry}": HTTP ${res.status}`,
      { hint: `retry later; check the registry's status page` },
    );
  }
  return `Bearer ${token}`;
}

function basic(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}

function unauthorized(ref: ImageReference, why: string): BangerError {
  return new BangerError(
    "REGISTRY_UNAUTHORIZED",
    `registry "${ref.registry}" refused access to repository "${ref.repository}": ${why} ` +
      "(or the repository does not exist)",
    {
      hint:
        `run \`docker login ${ref.registry}\`, or add an "auths" entry for "${ref.registry}" ` +
        'with "auth": base64 of user:password to ~/.docker/config.json',
    },
  );
}

async function failure(ref: ImageReference, res: Response, what: string): Promise<BangerError> {
  const body = await readLimited(res, MAX_ERROR_BODY_BYTES).catch(() => undefined);
  const codes = registryErrorCodes(body);
  const detail = codes === "" ? `HTTP ${res.status}` : `HTTP ${res.status} ${codes}`;
  if (res.status === 404) {
    return new BangerError(
      "REGISTRY_NOT_FOUND",
      `registry "${ref.registry}" has no ${what} in repository "${ref.repository}" (${detail})`,
      { hint: "check the repository and tag names, e.g. with: skopeo list-tags docker://…" },
    );
  }
  if (res.status === 401 || res.status === 403) return unauthorized(ref, detail);
  return new BangerError(
    "REGISTRY_FAILED",
    `registry "${ref.registry}" failed to serve ${what} of "${ref.repository}": ${detail}`,
    { hint: "retry later; the registry may be overloaded or down" },
  );
}

function registryErrorCodes(body: unknown): string {
  if (typeof body !== "object" || body === null) return "";
  const errors = (body as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return "";
  return errors
    .map((e: unknown) =>
      typeof e === "object" && e !== null ? (e as { code?: unknown }).code : "",
    )
    .filter((c): c is string => typeof c === "string" && /^[A-Z_]{1,40}$/.test(c))
    .join(", ");
}

/** Reads at most `limit` bytes of a JSON body; anything else yields undefined. */
export async function readLimited(res: Response, limit: number): Promise<unknown> {
  const text = await readText(res, limit);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The body as bytes, refusing more than `limit`. */
export async function readBytes(res: Response, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (res.body === null) return Buffer.alloc(0);
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > limit) {
      await res.body.cancel().catch(() => {});
      throw new Error(`body is larger than ${limit} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

async function readText(res: Response, limit: number): Promise<string> {
  return (await readBytes(res, limit)).toString("utf8");
}

function retryAfterMs(res: Response): number | undefined {
  const seconds = Number(res.headers.get("retry-after"));
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
}

let dispatcher: EnvHttpProxyAgent | undefined;

/**
 * Node 20's global fetch ignores HTTP_PROXY, HTTPS_PROXY and NO_PROXY; undici's agent honours
 * them. Made on first use, so the environment of the process at that moment counts.
 */
function proxyDispatcher(): EnvHttpProxyAgent {
  dispatcher ??= new EnvHttpProxyAgent();
  return dispatcher;
}

/** fetch with a deadline on the headers only: a long body is the caller's to watch. */
async function fetchWithDeadline(
  registry: string,
  url: string,
  headers: Record<string, string>,
  signals: (AbortSignal | undefined)[],
): Promise<Response> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), HEADERS_TIMEOUT_MS);
  const callerSignals = signals.filter((s): s is AbortSignal => s !== undefined);
  const signal = AbortSignal.any([deadline.signal, ...callerSignals]);
  try {
    const res = await undiciFetch(url, {
      headers,
      signal,
      redirect: "follow",
      dispatcher: proxyDispatcher(),
    });
    return res as unknown as Response;
  } catch (err) {
    if (callerSignals.some((s) => s.aborted)) {
      throw new BangerError("INTERRUPTED", `request to registry "${registry}" interrupted`, {
        cause: err,
      });
    }
    throw unreachable(registry, err, deadline.signal.aborted ? HEADERS_TIMEOUT_MS : undefined);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new BangerError("INTERRUPTED", "registry retry interrupted"));
      },
      { once: true },
    );
  });
}
