import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { isBangerError, type ErrorCode } from "../errors/index.js";
import { AgentClient } from "./agent-client.js";

const dir = mkdtempSync(path.join(tmpdir(), "banger-agent-client-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const HEALTH = {
  protocol: 1,
  agentVersion: "0.1.0",
  bootId: "b",
  uptimeSeconds: 1.5,
  systemd: null,
};

interface Request {
  v: number;
  id: number;
  method: string;
}

/** Answers each request line with whatever `answer` writes back; counts connections. */
type Answer = (req: Request, sock: net.Socket, nth: number) => void;

interface FakeAgent {
  socketPath: string;
  connections: number;
  requests: number;
  close: () => Promise<void>;
}

let serial = 0;

async function fakeAgent(answer: Answer): Promise<FakeAgent> {
  const socketPath = path.join(dir, `agent-${serial++}.sock`);
  const state: FakeAgent = { socketPath, connections: 0, requests: 0, close: async () => {} };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    state.connections++;
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    let buf = "";
    sock.on("data", (chunk) => {
      buf += chunk.toString("utf8");
      for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
        const req = JSON.parse(buf.slice(0, nl)) as Request;
        buf = buf.slice(nl + 1);
        answer(req, sock, state.requests++);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}

function reply(sock: net.Socket, req: Request, result: unknown): void {
  sock.write(`${JSON.stringify({ v: 1, id: req.id, ok: true, result })}\n`);
}

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isBangerError(err), `not a BangerError: ${String(err)}`);
    assert.equal(err.code, expected, err.message);
    assert.match(err.message, /VM "web-1"/);
    return true;
  };
}

test("health answers with the parsed result over one lazy connection", async () => {
  const agent = await fakeAgent((req, sock) => reply(sock, req, HEALTH));
  const client = new AgentClient({ socketPath: agent.socketPath, vmName: "web-1" });
  assert.equal(agent.connections, 0);
  assert.deepEqual(await client.health(), HEALTH);
  assert.deepEqual(await client.health(), HEALTH);
  assert.equal(agent.connections, 1);
  client.close();
  await agent.close();
});

test("a missing socket is AGENT_UNAVAILABLE", async () => {
  const client = new AgentClient({ socketPath: path.join(dir, "none.sock"), vmName: "web-1" });
  await assert.rejects(client.health(), code("AGENT_UNAVAILABLE"));
  client.close();
});

test("a silent agent times out, and the next call reconnects", async () => {
  const agent = await fakeAgent((req, sock, nth) => {
    if (nth > 0) reply(sock, req, HEALTH);
  });
  const client = new AgentClient({ socketPath: agent.socketPath, vmName: "web-1", timeoutMs: 150 });
  const started = Date.now();
  await assert.rejects(client.health(), code("AGENT_TIMEOUT"));
  assert.ok(Date.now() - started < 1000);
  assert.deepEqual(await client.health(), HEALTH);
  assert.equal(agent.connections, 2);
  client.close();
  await agent.close();
});

test("stray lines with other ids are skipped", async () => {
  const agent = await fakeAgent((req, sock) => {
    sock.write(`${JSON.stringify({ v: 1, id: req.id + 100, ok: true, result: { junk: 1 } })}\n`);
    setTimeout(() => reply(sock, req, HEALTH), 10);
  });
  const client = new AgentClient({ socketPath: agent.socketPath, vmName: "web-1" });
  assert.deepEqual(await client.health(), HEALTH);
  client.close();
  await agent.close();
});

test("a reply split across writes is joined", async () => {
  const agent = await fakeAgent((req, sock) => {
    const line = `${JSON.stringify({ v: 1, id: req.id, ok: true, result: HEALTH })}\n`;
    sock.write(line.slice(0, 5));
    setTimeout(() => sock.write(line.slice(5)), 10);
  });
  const client = new AgentClient({ socketPath: agent.socketPath, vmName: "web-1" });
  assert.deepEqual(await client.health(), HEALTH);
  client.close();
  await agent.close();
});

test("another protocol version is AGENT_VERSION_MISMATCH, either way it is said", async () => {
  const agent = await fakeAgent((req, sock, nth) => {
    const error = { code: "version_mismatch", message: "request uses 1; agent speaks 2" };
    const line =
      nth === 0
        ? { v: 2, id: req.id, ok: true, result: {} }
        : { v: 1, id: req.id, ok: false, error };
    sock.write(`${JSON.stringify(line)}\n`);
  });
  const client = new AgentClient({ socketPath: agent.socketPath, vmName: "web-1" });
  await assert.rejects(client.health(), code("AGENT_VERSION_MISMATCH"));
  await assert.rejects(client.health(), code("AGENT_VERSION_MISMATCH"));
  client.close();
  await agent.close();
});

test("garbage, wrong shapes and overlong lines are AGENT_PROTOCOL, then it recovers", async () => {
  const garbage = [
    "garbage\n",
    '{"v":1,"id":2,"ok":true,"result":{"ports":[{"port":"x"}]}}\n',
    "x".repeat(5000),
  ];
  const agent = await fakeAgent((req, sock, nth) => {
    if (nth < garbage.length) sock.write(garbage[nth] ?? "");
    else reply(sock, req, HEALTH);
  });
  const client = new AgentClient({
    socketPath: agent.socketPath,
    vmName: "web-1",
    maxReplyBytes: 1024,
  });
  await assert.rejects(client.health(), code("AGENT_PROTOCOL"));
  await assert.rejects(client.ports(), code("AGENT_PROTOCOL"));
  await assert.rejects(client.health(), code("AGENT_PROTOCOL"));
  assert.deepEqual(await client.health(), HEALTH);
  client.close();
  await agent.close();
});

test("an agent error reply is AGENT_REQUEST_FAILED with its code", async () => {
  const agent = await fakeAgent((req, sock) => {
    const error = { code: "internal", message: "cannot list ports: out of memory" };
    sock.write(`${JSON.stringify({ v: 1, id: req.id, ok: false, error })}\n`);
  });
  const client = new AgentClient({ socketPath: agent.socketPath, vmName: "web-1" });
  await assert.rejects(client.ports(), (err) => {
    code("AGENT_REQUEST_FAILED")(err);
    assert.match((err as Error).message, /"ports": internal: cannot list ports/);
    return true;
  });
  client.close();
  await agent.close();
});

test("a connection closed mid-request is AGENT_UNAVAILABLE, and the next call reconnects", async () => {
  const agent = await fakeAgent((req, sock, nth) => {
    if (nth === 0) sock.destroy();
    else reply(sock, req, HEALTH);
  });
  const client = new AgentClient({ socketPath: agent.socketPath, vmName: "web-1" });
  await assert.rejects(client.health(), code("AGENT_UNAVAILABLE"));
  assert.deepEqual(await client.health(), HEALTH);
  assert.equal(agent.connections, 2);
  client.close();
  await agent.close();
});

test("concurrent calls go one at a time, in order", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const agent = await fakeAgent((req, sock) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      reply(sock, req, { ...HEALTH, uptimeSeconds: req.id });
    }, 5);
  });
  const client = new AgentClient({ socketPath: agent.socketPath, vmName: "web-1" });
  const results = await Promise.all([1, 2, 3, 4, 5].map(() => client.health()));
  assert.deepEqual(
    results.map((h) => h.uptimeSeconds),
    [1, 2, 3, 4, 5],
  );
  assert.equal(maxInFlight, 1);
  client.close();
  await agent.close();
});

test("close fails the call in flight and every later one", async () => {
  const agent = await fakeAgent(() => {});
  const client = new AgentClient({ socketPath: agent.socketPath, vmName: "web-1" });
  const pending = client.health();
  setTimeout(() => client.close(), 20);
  await assert.rejects(pending, code("AGENT_UNAVAILABLE"));
  await assert.rejects(client.stats(), code("AGENT_UNAVAILABLE"));
  await agent.close();
});
