import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import type { Respond } from "./responder.js";
import { serveTcpConnection, type TcpLimits } from "./tcp.js";
import { frame, query } from "./testing.js";

async function withTcp(
  respond: Respond,
  limits: TcpLimits,
  fn: (client: net.Socket) => Promise<void>,
): Promise<void> {
  const server = net.createServer((socket) => serveTcpConnection(socket, respond, limits));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect(port, "127.0.0.1");
  client.on("error", () => undefined);
  await new Promise((resolve) => client.once("connect", resolve));
  try {
    await fn(client);
  } finally {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

const echo: Respond = (q, done) => done(q);
const closed = (s: net.Socket): Promise<number> => {
  const started = performance.now();
  return new Promise((resolve) => s.once("close", () => resolve(performance.now() - started)));
};

test("an idle connection is closed after the idle timeout", async () => {
  await withTcp(echo, { idleTimeoutMs: 150, maxPendingQueries: 4 }, async (client) => {
    const ms = await closed(client);
    assert.ok(ms >= 100 && ms < 1000, `closed after ${ms} ms`);
  });
});

test("a frame too short for a header closes the connection without a reply", async () => {
  await withTcp(echo, { idleTimeoutMs: 5000, maxPendingQueries: 4 }, async (client) => {
    let received = 0;
    client.on("data", (d: Buffer) => (received += d.length));
    client.write(Buffer.from([0, 3, 1, 2, 3]));
    await closed(client);
    assert.equal(received, 0);
  });
});

test("thousands of queries in one write are all answered, in order of arrival", async () => {
  const count = 5000;
  const msgs = Array.from({ length: count }, (_, i) => query("sandbox.vm", "A", { id: i }));
  await withTcp(echo, { idleTimeoutMs: 5000, maxPendingQueries: 16 }, async (client) => {
    const ids: number[] = [];
    let buffered = Buffer.alloc(0);
    const done = new Promise<void>((resolve) => {
      client.on("data", (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          ids.push(buffered.readUInt16BE(2));
          buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
        }
        if (ids.length === count) resolve();
      });
    });
    client.write(Buffer.concat(msgs.map(frame)));
    await done;
    assert.deepEqual(ids, [...ids.keys()]);
  });
});

test("reading pauses while the pending-query limit is reached", async () => {
  const waiting: Array<() => void> = [];
  const slow: Respond = (q, done) => waiting.push(() => done(q));
  await withTcp(slow, { idleTimeoutMs: 5000, maxPendingQueries: 4 }, async (client) => {
    client.write(Buffer.concat(Array.from({ length: 10 }, () => frame(query("a.vm")))));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(waiting.length, 4);

    waiting.splice(0, 4).forEach((release) => release());
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(waiting.length, 4);
  });
});

test("a reply that is dropped (undefined) frees its slot", async () => {
  let calls = 0;
  const drop: Respond = (_q, done) => {
    calls++;
    done(undefined);
  };
  await withTcp(drop, { idleTimeoutMs: 300, maxPendingQueries: 1 }, async (client) => {
    let received = 0;
    client.on("data", (d: Buffer) => (received += d.length));
    client.write(Buffer.concat(Array.from({ length: 5 }, () => frame(query("a.vm")))));
    await closed(client);
    assert.equal(received, 0);
    assert.equal(calls, 5);
  });
});
