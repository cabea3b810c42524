import assert from "node:assert/strict";
import { test } from "node:test";
import dnsPacket from "dns-packet";
import { silentLogger } from "../log/index.js";
import { createResponder, type Respond } from "./responder.js";
import { query, recordsOf, type Reply } from "./testing.js";

function responderFor(table: Record<string, string>): Respond {
  const records = recordsOf(table);
  return createResponder({ records, zone: "vm", forwarder: undefined, logger: silentLogger() });
}

function ask(respond: Respond, msg: Buffer): Reply {
  let reply: Buffer | undefined;
  respond(msg, (r) => (reply = r));
  assert.ok(reply !== undefined, "no reply");
  return dnsPacket.decode(reply) as Reply;
}

function addressIn(reply: Reply): string | undefined {
  const [answer] = reply.answers ?? [];
  return answer?.type === "A" ? answer.data : undefined;
}

test("repeated queries reuse the reply but carry their own id", () => {
  const respond = responderFor({ sandbox: "172.16.0.2" });
  for (const id of [1, 2, 65535, 0]) {
    const reply = ask(respond, query("sandbox.vm", "A", { id }));
    assert.equal(reply.id, id);
    assert.equal(addressIn(reply), "172.16.0.2");
  }
});

test("a record that changes is answered with its new address at once", () => {
  const table = new Map([["sandbox", "172.16.0.2"]]);
  const respond = createResponder({
    records: { lookup: (n) => table.get(n), reverse: () => undefined },
    zone: "vm",
    forwarder: undefined,
    logger: silentLogger(),
  });
  assert.equal(addressIn(ask(respond, query("sandbox.vm"))), "172.16.0.2");
  table.set("sandbox", "172.16.0.9");
  assert.equal(addressIn(ask(respond, query("sandbox.vm"))), "172.16.0.9");
  table.delete("sandbox");
  assert.equal(ask(respond, query("sandbox.vm")).rcode, "NXDOMAIN");
});

test("each spelling of a name gets its own echo, and RD is echoed as asked", () => {
  const respond = responderFor({ sandbox: "172.16.0.2" });
  assert.equal(ask(respond, query("sandbox.vm")).questions?.[0]?.name, "sandbox.vm");
  assert.equal(ask(respond, query("SandBox.vm")).questions?.[0]?.name, "SandBox.vm");
  assert.equal(ask(respond, query("sandbox.vm", "A", { flags: 0 })).flag_rd, false);
  assert.equal(ask(respond, query("sandbox.vm")).flag_rd, true);
});
