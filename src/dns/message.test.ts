import assert from "node:assert/strict";
import { test } from "node:test";
import dnsPacket from "dns-packet";
import { MAX_QUERY_BYTES, parseQuery, RCODE } from "./message.js";
import { query, rcodeOf } from "./testing.js";

function replyOf(buf: Buffer): Buffer {
  const parsed = parseQuery(buf);
  assert.equal(parsed.kind, "reply");
  return parsed.kind === "reply" ? parsed.reply : Buffer.alloc(0);
}

test("a clean single-question query parses", () => {
  const parsed = parseQuery(query("sandbox.vm"));
  assert.equal(parsed.kind, "query");
  assert.equal(parsed.kind === "query" && parsed.question.name, "sandbox.vm");
});

test("messages shorter than a header get silence", () => {
  for (let n = 0; n < 12; n++) assert.equal(parseQuery(Buffer.alloc(n)).kind, "drop");
});

test("responses (QR set) get silence, even malformed ones", () => {
  const response = dnsPacket.encode({ type: "response", id: 7, questions: [] });
  assert.equal(parseQuery(response).kind, "drop");
  const garbage = Buffer.alloc(40, 0xff);
  assert.equal(parseQuery(garbage).kind, "drop");
});

test("several questions get a bare FORMERR, no bigger than a header", () => {
  const two = dnsPacket.encode({
    type: "query",
    id: 99,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [
      { type: "A", name: "sandbox.vm" },
      { type: "A", name: "web-1.vm" },
    ],
  });
  const reply = replyOf(two);
  assert.equal(reply.length, 12);
  assert.equal(reply.readUInt16BE(0), 99);
  assert.equal(rcodeOf(reply), RCODE.FORMERR);
  const decoded = dnsPacket.decode(reply);
  assert.equal(decoded.flag_qr, true);
  assert.equal(decoded.flag_rd, true);
});

test("zero questions, truncated bodies and trailing bytes are FORMERR", () => {
  const zero = dnsPacket.encode({ type: "query", id: 1, questions: [] });
  const good = query("sandbox.vm");
  for (const bad of [
    zero,
    good.subarray(0, good.length - 3),
    Buffer.concat([good, Buffer.alloc(1)]),
  ]) {
    assert.equal(rcodeOf(replyOf(bad)), RCODE.FORMERR);
  }
});

test("oversized queries are FORMERR", () => {
  const big = Buffer.concat([query("sandbox.vm"), Buffer.alloc(MAX_QUERY_BYTES)]);
  assert.equal(rcodeOf(replyOf(big)), RCODE.FORMERR);
});

test("other opcodes are NOTIMP with the opcode echoed", () => {
  const update = Buffer.from(query("sandbox.vm"));
  update.writeUInt16BE(update.readUInt16BE(2) | (5 << 11), 2);
  const reply = replyOf(update);
  assert.equal(rcodeOf(reply), RCODE.NOTIMP);
  assert.equal((reply.readUInt16BE(2) >> 11) & 0xf, 5);
});

test("names that would grow when echoed are FORMERR", () => {
  const msg = Buffer.from(query("a".repeat(60) + ".vm"));
  msg.fill(0xff, 13, 13 + 60);
  assert.equal(rcodeOf(replyOf(msg)), RCODE.FORMERR);
});
