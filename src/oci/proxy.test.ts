// Its own file (and so its own process): the proxy agent reads the environment on first use.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { createRegistryClient } from "./registry-client.js";

const seen: string[] = [];
const registry = createServer((req, res) => {
  seen.push(`${req.method} ${req.url}`);
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }));
});
// A forward proxy: undici tunnels with CONNECT; every tunnel leads to the registry above.
const proxy = createServer();
proxy.on("connect", (req, client, head) => {
  seen.push(`CONNECT ${req.url}`);
  const upstream = connect((registry.address() as AddressInfo).port, "127.0.0.1", () => {
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on("error", () => client.destroy());
  client.on("error", () => upstream.destroy());
});

before(async () => {
  registry.listen(0, "127.0.0.1");
  proxy.listen(0, "127.0.0.1");
  await Promise.all([once(registry, "listening"), once(proxy, "listening")]);
  process.env["HTTP_PROXY"] = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  process.env["NO_PROXY"] = "";
});
after(() => {
  registry.close();
  proxy.close();
  registry.closeAllConnections();
  proxy.closeAllConnections();
});

test("registry requests go through HTTP_PROXY", async () => {
  // registry.invalid never resolves: only the proxy can have carried the request.
  const client = createRegistryClient({
    ref: { registry: "registry.invalid:5000", repository: "team/app", tag: "1" },
    insecure: true,
    credentials: undefined,
    signal: undefined,
    backoffMs: [],
  });
  await assert.rejects(
    client.get("manifests/1", ["application/vnd.oci.image.manifest.v1+json"], 'tag "1"'),
    (err) => isBangerError(err) && /team\/app/.test(err.message),
  );
  assert.ok(seen.includes("CONNECT registry.invalid:5000"), JSON.stringify(seen));
  assert.ok(seen.includes("GET /v2/team/app/manifests/1"), JSON.stringify(seen));
});
