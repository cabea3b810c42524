// Private, tests only: Debian's docker-registry on 127.0.0.1 with a throwaway store, and the few
// raw registry calls that push hand-made blobs and manifests.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { MEDIA } from "./manifest.js";
import { makeTar, type TarEntry } from "./testing-tree.js";

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  /** The registry's storage root (blobs under docker/registry/v2/blobs). */
  storeDir: string;
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

export async function startRegistry(): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(tmpdir(), "oci-registry-"));
  const port = await freePort();
  const storeDir = path.join(dir, "store");
  const config = [
    "version: 0.1",
    "log: { level: error, accesslog: { disabled: true } }",
    `storage: { filesystem: { rootdirectory: ${storeDir} }, delete: { enabled: true } }`,
    `http: { addr: "127.0.0.1:${port}" }`,
    "",
  ].join("\n");
  await writeFile(path.join(dir, "config.yml"), config);
  const child = spawn("docker-registry", ["serve", path.join(dir, "config.yml")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const host = `127.0.0.1:${port}`;
  const close = async (): Promise<void> => {
    await stop(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(host, child, () => stderr);
  } catch (err) {
    await close();
    throw err;
  }
  return { host, storeDir, close };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

async function waitReady(host: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr()}`);
    const ok = await fetch(`http://${host}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not answer within ${READY_TIMEOUT_MS} ms: ${stderr()}`);
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Monolithic upload: POST for a session, then PUT the bytes with their digest. */
export async function pushBlob(host: string, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  const location = start.headers.get("location");
  if (start.status !== 202 || location === null) throw new Error(`upload start: ${start.status}`);
  const url = new URL(location, `http://${host}`);
  url.searchParams.set("digest", digest);
  const put = await fetch(url, {
    method: "PUT",
    body: data,
    headers: { "content-type": "application/octet-stream" },
  });
  if (put.status !== 201) throw new Error(`upload ${digest}: ${put.status} ${await put.text()}`);
  return digest;
}

export async function pushManifest(
  host: string,
  repo: string,
  tag: string,
  mediaType: string,
  manifest: object,
): Promise<string> {
  const body = JSON.stringify(manifest);
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    body,
    headers: { "content-type": mediaType },
  });
  if (res.status !== 201)
    throw new Error(`manifest ${repo}:${tag}: ${res.status} ${await res.text()}`);
  return sha256(body);
}

/** The registry file that holds a blob, for tests that corrupt it. */
export function storedBlobPath(reg: TestRegistry, digest: string): string {
  const hex = digest.slice("sha256:".length);
  return path.join(reg.storeDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
}

export interface Stored {
  digest: string;
  size: number;
}

/** A manifest as the registry stores it, with its digest and size. */
export async function storedManifest(
  host: string,
  repo: string,
  tag: string,
): Promise<Stored & { body: object }> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: `${MEDIA.ociManifest}, ${MEDIA.dockerManifest}` },
  });
  const text = await res.text();
  return { digest: sha256(text), size: Buffer.byteLength(text), body: JSON.parse(text) as object };
}

/** Pushes an image whose layers are the given hand-made tars (gzip unless told not to). */
export async function pushRawImage(
  host: string,
  repo: string,
  tag: string,
  tars: TarEntry[][],
  compress = true,
): Promise<Stored[]> {
  const plains: Buffer[] = [];
  for (const entries of tars) plains.push(await makeTar(entries));
  return pushTarLayers(host, repo, tag, plains, compress ? 6 : undefined);
}

/**
 * Pushes an amd64 image made of the given uncompressed layer tars, gzipped at `gzipLevel`
 * (plain when undefined), with its config and manifest; resolves with the layer descriptors.
 */
export async function pushTarLayers(
  host: string,
  repo: string,
  tag: string,
  plains: Buffer[],
  gzipLevel: number | undefined,
): Promise<(Stored & { mediaType: string })[]> {
  const layers: (Stored & { mediaType: string })[] = [];
  const diffIds: string[] = [];
  for (const plain of plains) {
    const blob = gzipLevel === undefined ? plain : gzipSync(plain, { level: gzipLevel });
    layers.push({
      digest: await pushBlob(host, repo, blob),
      size: blob.length,
      mediaType: gzipLevel === undefined ? MEDIA.ociLayer : `${MEDIA.ociLayer}+gzip`,
    });
    diffIds.push(sha256(plain));
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: diffIds },
    }),
  );
  const configDesc = {
    mediaType: "application/vnd.oci.image.config.v1+json",
    digest: await pushBlob(host, repo, config),
    size: config.length,
  };
  await pushManifest(host, repo, tag, MEDIA.ociManifest, {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: configDesc,
    layers,
  });
  return layers;
}
