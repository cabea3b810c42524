import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { waitForSsh } from "./wait-for-ssh.js";

async function listen(onConnection: (socket: Socket) => void): Promise<Server> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

async function closedPort(): Promise<number> {
  const server = await listen(() => undefined);
  const port = portOf(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("waitForSsh times out with VM_SSH_UNAVAILABLE when nothing listens", async () => {
  const port = await closedPort();
  const started = Date.now();
  await assert.rejects(waitForSsh("127.0.0.1", { port, timeoutMs: 1200 }), (err) => {
    assert.ok(isBangerError(err, "VM_SSH_UNAVAILABLE"));
    assert.match(err.message, /ECONNREFUSED/);
    return true;
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 1100 && elapsed < 1700, `took ${elapsed} ms`);
});

test("waitForSsh does not accept a server that stays silent", async () => {
  const sockets: Socket[] = [];
  const server = await listen((s) => sockets.push(s));
  try {
    const started = Date.now();
    await assert.rejects(waitForSsh("127.0.0.1", { port: portOf(server), timeoutMs: 800 }), (err) =>
      isBangerError(err, "VM_SSH_UNAVAILABLE"),
    );
    assert.ok(Date.now() - started < 1300);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test("waitForSsh resolves once a banner arrives, after earlier lines", async () => {
  let connections = 0;
  const server = await listen((s) => {
    connections++;
    // The first connection is dropped, as a booting guest's half-started sshd might.
    if (connections === 1) return s.destroy();
    s.end("hello, a pre-banner line\r\nSSH-2.0-OpenSSH_9.2\r\n");
  });
  try {
    await waitForSsh("127.0.0.1", { port: portOf(server), timeoutMs: 5000 });
    assert.equal(connections, 2);
  } finally {
    server.close();
  }
});

test("waitForSsh stops with INTERRUPTED when its signal aborts", async () => {
  const port = await closedPort();
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  const started = Date.now();
  await assert.rejects(
    waitForSsh("127.0.0.1", { port, timeoutMs: 10_000, signal: controller.signal }),
    (err) => isBangerError(err, "INTERRUPTED"),
  );
  assert.ok(Date.now() - started < 1500);
});
