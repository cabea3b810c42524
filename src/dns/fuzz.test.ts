import assert from "node:assert/strict";
import dgram from "node:dgram";
import net from "node:net";
import { test } from "node:test";
import dnsPacket from "dns-packet";
import { silentLogger } from "../log/index.js";
import { startDnsServer } from "./index.js";
import { RCODE } from "./message.js";
import { createResponder } from "./responder.js";
import { askUdp, frame, query, rcodeOf, TEST_RECORDS } from "./testing.js";

/** A seeded generator (mulberry32) so a failing case can be replayed. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const SEEDS: Buffer[] = [
  query("sandbox.vm"),
  query("web-1.vm", "AAAA"),
  query("nope.vm", "TXT"),
  query("2.0.16.172.in-addr.arpa", "PTR"),
  query("example.com", "MX"),
  dnsPacket.encode({
    type: "query",
    id: 3,
    questions: [{ type: "A", name: "sandbox.vm" }],
    additionals: [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 4096,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: [],
      },
    ],
  }),
];

function randomBytes(rand: (n: number) => number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => rand(256)));
}

function mutate(rand: (n: number) => number, seed: Buffer): Buffer {
  const out = Buffer.from(seed);
  switch (rand(6)) {
    case 0:
      for (let i = rand(6) + 1; i > 0; i--) out[rand(out.length)] = rand(256);
      return out;
    case 1:
      return out.subarray(0, rand(out.length));
    case 2:
      return Buffer.concat([out, randomBytes(rand, rand(64) + 1)]);
    case 3:
      out.writeUInt16BE(rand(0x10000), 4 + 2 * rand(4));
      return out;
    case 4:
      // A compression pointer anywhere, including forward and self references.
      out.writeUInt16BE(0xc000 | rand(out.length + 4), 12 + rand(out.length - 13));
      return out;
    default:
      out.writeUInt16BE(out.readUInt16BE(2) & 0x7fff, 2);
      return Buffer.concat([out.subarray(0, 12), randomBytes(rand, rand(300))]);
  }
}

function fuzzCase(rand: (n: number) => number): Buffer {
  const seed = SEEDS[rand(SEEDS.length)] ?? Buffer.alloc(0);
  if (rand(4) === 0) return randomBytes(rand, rand(700));
  if (rand(50) === 0) return randomBytes(rand, 4097 + rand(4000));
  return mutate(rand, seed);
}

test("20,000 random and mutated messages: one well-formed reply or silence", () => {
  const respond = createResponder({
    records: TEST_RECORDS,
    zone: "vm",
    forwarder: undefined,
    logger: silentLogger(),
  });
  const rand = prng(0xbad5eed);
  const started = performance.now();
  for (let i = 0; i < 20_000; i++) {
    const msg = fuzzCase(rand);
    const replies: Array<Buffer | undefined> = [];
    respond(msg, (r) => replies.push(r));
    assert.equal(replies.length, 1, `case ${i}: done called ${replies.length} times`);
    const reply = replies[0];

    const silent = msg.length < 12 || (msg.readUInt16BE(2) & 0x8000) !== 0;
    if (silent) {
      assert.equal(reply, undefined, `case ${i}: replied to ${msg.toString("hex")}`);
      continue;
    }
    assert.ok(reply !== undefined, `case ${i}: no reply to ${msg.toString("hex")}`);
    assert.equal(reply.readUInt16BE(0), msg.readUInt16BE(0), `case ${i}: id`);
    const decoded = dnsPacket.decode(reply);
    assert.equal(decoded.flag_qr, true);
    if (rcodeOf(reply) === RCODE.FORMERR || rcodeOf(reply) === RCODE.NOTIMP) {
      assert.equal(reply.length, 12, `case ${i}: error reply of ${reply.length} bytes`);
    } else if ((decoded.questions?.length ?? 0) === 0) {
      // Unknown classes cannot be re-encoded by dns-packet: a bare REFUSED instead.
      assert.equal(rcodeOf(reply), RCODE.REFUSED, `case ${i}: ${msg.toString("hex")}`);
      assert.equal(reply.length, 12);
    } else {
      assert.equal(decoded.questions?.length, 1, `case ${i}: question echoed`);
    }
  }
  const ms = performance.now() - started;
  assert.ok(ms < 10_000, `fuzzing took ${ms} ms`);
});

test("a live server survives 3,000 hostile datagrams and TCP streams", async () => {
  const server = await startDnsServer({ host: "127.0.0.1", port: 0, records: TEST_RECORDS });
  const { port } = server.address;
  const rand = prng(42);
  try {
    const udp = dgram.createSocket("udp4");
    let replies = 0;
    udp.on("message", () => replies++);
    for (let i = 0; i < 3000; i++) {
      udp.send(fuzzCase(rand), port, "127.0.0.1");
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }

    const streams = Array.from({ length: 20 }, () => hostileStream(port, rand));
    await Promise.all(streams);
    await new Promise((r) => setTimeout(r, 200));
    udp.close();
    assert.ok(replies <= 3000, `${replies} replies to 3000 datagrams`);

    const reply = await askUdp(port, query("sandbox.vm"));
    assert.equal(reply.answers?.[0]?.type, "A");
  } finally {
    await server.close();
  }
});

/** One connection sending framed fuzz cases and raw junk, then closing. */
function hostileStream(port: number, rand: (n: number) => number): Promise<void> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  socket.on("data", () => undefined);
  const chunks = Array.from({ length: 30 }, () =>
    rand(5) === 0 ? randomBytes(rand, rand(100)) : frame(fuzzCase(rand).subarray(0, 0xffff)),
  );
  return new Promise((resolve) => {
    socket.once("connect", () => {
      socket.end(Buffer.concat(chunks));
    });
    socket.once("close", () => resolve());
    setTimeout(() => {
      socket.destroy();
      resolve();
    }, 2000);
  });
}
