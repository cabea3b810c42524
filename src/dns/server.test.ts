import assert from "node:assert/strict";
import dgram from "node:dgram";
import net from "node:net";
import { after, before, test } from "node:test";
import dnsPacket from "dns-packet";
import { isBangerError } from "../errors/index.js";
import { startDnsServer, type DnsServer } from "./index.js";
import { RCODE } from "./message.js";
import { askTcp, askUdp, query, rcodeOf, sendUdp, TEST_RECORDS, type Reply } from "./testing.js";

let server: DnsServer;
let port: number;

before(async () => {
  server = await startDnsServer({ host: "127.0.0.1", port: 0, records: TEST_RECORDS });
  port = server.address.port;
});
after(() => server.close());

test("UDP: A for a known name, any case, with id, question, AA and RD echoed", async () => {
  const reply = await askUdp(port, query("SANDBOX.vm", "A", { id: 4242 }));
  assert.equal(reply.id, 4242);
  assert.equal(reply.rcode, "NOERROR");
  assert.equal(reply.flag_aa, true);
  assert.equal(reply.flag_rd, true);
  assert.equal(reply.flag_ra, false);
  assert.deepEqual(reply.questions, [{ name: "SANDBOX.vm", type: "A", class: "IN" }]);
  const [answer] = reply.answers ?? [];
  assert.equal(answer?.type, "A");
  assert.equal(answer?.type === "A" && answer.data, "172.16.0.2");
  assert.equal(answer?.type === "A" && answer.ttl, 5);
});

test("UDP: PTR for a known address", async () => {
  const reply = await askUdp(port, query("3.0.16.172.in-addr.arpa", "PTR"));
  assert.equal(reply.flag_aa, true);
  const [answer] = reply.answers ?? [];
  assert.equal(answer?.type === "PTR" && answer.data, "web-1.vm");
});

test("UDP: unknown name under the zone is NXDOMAIN with an SOA", async () => {
  const reply = await askUdp(port, query("nope.vm"));
  assert.equal(reply.rcode, "NXDOMAIN");
  assert.equal(reply.flag_aa, true);
  assert.equal(reply.authorities?.[0]?.type, "SOA");
});

test("UDP: AAAA for a known name is NOERROR with no answers", async () => {
  const reply = await askUdp(port, query("sandbox.vm", "AAAA"));
  assert.equal(reply.rcode, "NOERROR");
  assert.deepEqual(reply.answers, []);
});

test("UDP: names outside the zone are REFUSED without upstreams", async () => {
  for (const name of ["example.com", "9.9.9.9.in-addr.arpa"]) {
    const reply = await askUdp(port, query(name));
    assert.equal(reply.rcode, "REFUSED", name);
    assert.equal(reply.flag_aa, false, name);
    assert.deepEqual(reply.answers, [], name);
  }
});

test("UDP: a query carrying EDNS is answered", async () => {
  const opt = { type: "OPT", name: ".", udpPayloadSize: 1232, extendedRcode: 0 } as const;
  const msg = query("web-1.vm", "A", {
    additionals: [{ ...opt, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  });
  const reply = await askUdp(port, msg);
  assert.equal(reply.answers?.[0]?.type, "A");
});

test("UDP: several questions get a 12-byte FORMERR; responses get nothing", async () => {
  const two = dnsPacket.encode({
    type: "query",
    id: 5,
    questions: [
      { type: "A", name: "sandbox.vm" },
      { type: "A", name: "web-1.vm" },
    ],
  });
  const reply = await sendUdp(port, two);
  assert.equal(reply?.length, 12);
  assert.equal(rcodeOf(reply ?? Buffer.alloc(12)), RCODE.FORMERR);

  const response = Buffer.from(query("sandbox.vm"));
  response.writeUInt16BE(response.readUInt16BE(2) | 0x8000, 2);
  assert.equal(await sendUdp(port, response, 300), undefined);
  assert.equal(await sendUdp(port, Buffer.from([1, 2, 3]), 300), undefined);
});

test("TCP: several queries on one connection, each answered with its id", async () => {
  const msgs = [1, 2, 3].map((id) => query(id === 2 ? "nope.vm" : "sandbox.vm", "A", { id }));
  const replies = (await askTcp(port, msgs)).map((r) => dnsPacket.decode(r) as Reply);
  assert.deepEqual(replies.map((r) => r.id).sort(), [1, 2, 3]);
  assert.equal(replies.find((r) => r.id === 2)?.rcode, "NXDOMAIN");
  assert.equal(replies.find((r) => r.id === 3)?.answers?.[0]?.type, "A");
});

test("TCP: a query split across writes is reassembled", async () => {
  const socket = net.connect(port, "127.0.0.1");
  const framed = Buffer.concat([Buffer.from([0, 0]), query("web-1.vm")]);
  framed.writeUInt16BE(framed.length - 2, 0);
  const reply = new Promise<Buffer>((resolve) => socket.once("data", resolve));
  socket.write(framed.subarray(0, 1));
  await new Promise((r) => setTimeout(r, 50));
  socket.write(framed.subarray(1, 9));
  await new Promise((r) => setTimeout(r, 50));
  socket.write(framed.subarray(9));
  const decoded = dnsPacket.decode((await reply).subarray(2));
  socket.destroy();
  assert.equal(decoded.answers?.[0]?.type === "A" && decoded.answers[0].data, "172.16.0.3");
});

test("TCP: connections beyond the limit are closed at once", async () => {
  const sockets = await Promise.all(
    Array.from({ length: 70 }, () => {
      const s = net.connect(port, "127.0.0.1");
      s.on("error", () => undefined);
      return new Promise<net.Socket>((resolve) => s.once("connect", () => resolve(s)));
    }),
  );
  await new Promise((r) => setTimeout(r, 200));
  const closed = sockets.filter((s) => s.readableEnded || s.destroyed).length;
  sockets.forEach((s) => s.destroy());
  assert.equal(closed, 6);
});

test("a taken UDP port is DNS_PORT_IN_USE", async () => {
  const rejected = startDnsServer({ host: "127.0.0.1", port, records: TEST_RECORDS });
  await assert.rejects(rejected, (err) => isBangerError(err, "DNS_PORT_IN_USE"));
});

test("a port taken only for TCP is DNS_PORT_IN_USE, and the UDP socket is released", async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  const taken = (holder.address() as net.AddressInfo).port;
  const rejected = startDnsServer({ host: "127.0.0.1", port: taken, records: TEST_RECORDS });
  await assert.rejects(rejected, (err) => isBangerError(err, "DNS_PORT_IN_USE"));

  const udp = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => udp.bind(taken, "127.0.0.1", resolve));
  udp.close();
  holder.close();
});

test("close is idempotent and frees the port", async () => {
  const other = await startDnsServer({ host: "127.0.0.1", port: 0, records: TEST_RECORDS });
  const otherPort = other.address.port;
  await Promise.all([other.close(), other.close()]);
  const again = await startDnsServer({ host: "127.0.0.1", port: otherPort, records: TEST_RECORDS });
  await again.close();
});

test("a throwing record source turns that query into SERVFAIL", async () => {
  const broken = {
    lookup: (): string => {
      throw new Error("store is gone");
    },
    reverse: () => undefined,
  };
  const other = await startDnsServer({ host: "127.0.0.1", port: 0, records: broken });
  try {
    assert.equal((await askUdp(other.address.port, query("sandbox.vm"))).rcode, "SERVFAIL");
  } finally {
    await other.close();
  }
});
