import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { unreachable } from "./fetch-errors.js";
import { createRegistryClient } from "./registry-client.js";
import { parseChallenge } from "./www-authenticate.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
const server = createServer((req, res) => handler(req, res));
let host = "";

before(async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const creds = { username: "user", password: "p:ss" };
const basicCreds = `Basic ${Buffer.from("user:p:ss").toString("base64")}`;

function client(withCreds: boolean): ReturnType<typeof createRegistryClient> {
  return createRegistryClient({
    ref: { registry: host, repository: "o/n", tag: "t" },
    insecure: false,
    credentials: withCreds ? creds : undefined,
    signal: undefined,
    backoffMs: [1, 1, 1],
  });
}

test("the bearer flow fetches a token with service, scope and the user's credentials", async () => {
  const tokenQueries: string[] = [];
  handler = (req, res) => {
    const url = new URL(req.url ?? "", `http://${host}`);
    if (url.pathname === "/token") {
      tokenQueries.push(url.search);
      assert.equal(req.headers.authorization, basicCreds);
      res.end(JSON.stringify({ token: "tok" }));
    } else if (req.headers.authorization === "Bearer tok") res.end("manifest");
    else {
      const realm = `http://${host}/token`;
      res.writeHead(401, {
        "www-authenticate": `Bearer realm="${realm}",service="svc",scope="repository:o/n:pull"`,
      });
      res.end();
    }
  };
  const c = client(true);
  assert.equal(await (await c.get("manifests/t", ["a"], 'tag "t"')).text(), "manifest");
  assert.equal(await (await c.get("blobs/x", ["a"], "blob")).text(), "manifest");
  assert.deepEqual(tokenQueries, ["?service=svc&scope=repository%3Ao%2Fn%3Apull"]);
});

test("basic auth sends credentials; without them the error says how to add them", async () => {
  handler = (req, res) => {
    if (req.headers.authorization === basicCreds) return res.end("ok");
    res.writeHead(401, { "www-authenticate": 'Basic realm="reg"' });
    res.end();
  };
  assert.equal(await (await client(true).get("manifests/t", ["a"], "tag")).text(), "ok");
  await assert.rejects(
    client(false).get("manifests/t", ["a"], "tag"),
    (err) =>
      isBangerError(err, "REGISTRY_UNAUTHORIZED") &&
      err.message.includes(`"${host}"`) &&
      /docker login/.test(err.hint ?? "") &&
      /config\.json/.test(err.hint ?? ""),
  );
});

test("429 and 5xx are retried a bounded number of times", async () => {
  let calls = 0;
  handler = (_req, res) => {
    calls++;
    res.writeHead(calls < 3 ? (calls === 1 ? 429 : 503) : 200);
    res.end("fine");
  };
  assert.equal(await (await client(false).get("blobs/b", ["a"], "blob")).text(), "fine");
  assert.equal(calls, 3);

  calls = 0;
  handler = (_req, res) => {
    calls++;
    res.writeHead(502);
    res.end(JSON.stringify({ errors: [{ code: "UNAVAILABLE" }] }));
  };
  await assert.rejects(
    client(false).get("blobs/b", ["a"], 'blob "b"'),
    (err) => isBangerError(err, "REGISTRY_FAILED") && /HTTP 502 UNAVAILABLE/.test(err.message),
  );
  assert.equal(calls, 4);
});

test("a 404 names the object and the repository", async () => {
  handler = (_req, res) => {
    res.writeHead(404);
    res.end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "<script>" }] }));
  };
  await assert.rejects(
    client(false).get("manifests/v9", ["a"], 'tag "v9"'),
    (err) =>
      isBangerError(err, "REGISTRY_NOT_FOUND") &&
      err.message ===
        `registry "${host}" has no tag "v9" in repository "o/n" ` + "(HTTP 404 MANIFEST_UNKNOWN)",
  );
});

test("network failures are told apart in words that name the registry", () => {
  const failed = (code: string): Error =>
    new TypeError("fetch failed", { cause: Object.assign(new Error("boom"), { code }) });
  assert.match(unreachable("r.io", failed("ENOTFOUND")).message, /"r\.io": unknown host$/);
  assert.match(unreachable("r.io", failed("ECONNREFUSED")).message, /connection refused$/);
  const tls = unreachable("r.io", failed("DEPTH_ZERO_SELF_SIGNED_CERT"));
  assert.match(tls.message, /TLS failed/);
  assert.match(tls.hint ?? "", /insecure/);
  assert.match(unreachable("r.io", failed("X"), 10_000).message, /no answer within 10000 ms/);
});

test("challenges parse quoted and bare parameters", () => {
  assert.deepEqual(
    parseChallenge('Bearer realm="https://a/t?x=1",service=reg,scope="a:b,c:pull"'),
    {
      scheme: "bearer",
      params: { realm: "https://a/t?x=1", service: "reg", scope: "a:b,c:pull" },
    },
  );
  assert.equal(parseChallenge('Basic realm="r"')?.scheme, "basic");
  assert.equal(parseChallenge(null), undefined);
});
