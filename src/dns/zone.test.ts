import assert from "node:assert/strict";
import { test } from "node:test";
import type { Question } from "dns-packet";
import { RCODE } from "./message.js";
import { TEST_RECORDS } from "./testing.js";
import { addressOfReverseName, answerFromZone, RECORD_TTL_S } from "./zone.js";

function ask(name: string, type = "A", klass = "IN"): ReturnType<typeof answerFromZone> {
  return answerFromZone({ name, type, class: klass } as Question, TEST_RECORDS, "vm");
}

test("A for a known name keeps the asker's case and a short TTL", () => {
  const out = ask("SandBox.VM");
  assert.equal(out?.rcode, RCODE.NOERROR);
  assert.deepEqual(out?.answers, [
    { type: "A", name: "SandBox.VM", ttl: RECORD_TTL_S, data: "172.16.0.2" },
  ]);
  assert.ok(RECORD_TTL_S <= 10);
});

test("the records see the name without the zone, lowercased", () => {
  const seen: string[] = [];
  const records = { lookup: (n: string) => (seen.push(n), undefined), reverse: () => undefined };
  answerFromZone({ name: "Web-1.Vm", type: "A" }, records, "vm");
  assert.deepEqual(seen, ["web-1"]);
});

test("an unknown name under the zone is NXDOMAIN with the zone's SOA", () => {
  const out = ask("nope.vm");
  assert.equal(out?.rcode, RCODE.NXDOMAIN);
  assert.equal(out?.answers.length, 0);
  assert.equal(out?.authorities[0]?.type, "SOA");
  assert.equal(out?.authorities[0]?.name, "vm");
});

test("another type for a known name is NOERROR without answers", () => {
  for (const type of ["AAAA", "MX", "TXT"]) {
    const out = ask("sandbox.vm", type);
    assert.equal(out?.rcode, RCODE.NOERROR, type);
    assert.equal(out?.answers.length, 0, type);
    assert.equal(out?.authorities[0]?.type, "SOA", type);
  }
});

test("ANY for a known name returns its A record", () => {
  assert.equal(ask("sandbox.vm", "ANY")?.answers[0]?.type, "A");
});

test("the zone apex answers SOA and nothing else", () => {
  assert.equal(ask("vm", "SOA")?.answers[0]?.type, "SOA");
  assert.equal(ask("vm", "A")?.rcode, RCODE.NOERROR);
  assert.equal(ask("vm", "A")?.answers.length, 0);
});

test("a class other than IN is refused inside the zone", () => {
  assert.equal(ask("sandbox.vm", "A", "CH")?.rcode, RCODE.REFUSED);
});

test("PTR for a known address names the VM in the zone", () => {
  const out = ask("2.0.16.172.in-addr.arpa", "PTR");
  assert.equal(out?.rcode, RCODE.NOERROR);
  assert.equal(out?.answers[0]?.type, "PTR");
  assert.equal(out?.answers[0]?.data, "sandbox.vm");
});

test("reverse names of unknown addresses and other names are not the zone's", () => {
  assert.equal(ask("9.0.16.172.in-addr.arpa", "PTR"), undefined);
  assert.equal(ask("example.com"), undefined);
  assert.equal(ask("notvm"), undefined);
  assert.equal(ask("sandbox.vmx"), undefined);
});

test("a custom zone is honoured", () => {
  const out = answerFromZone({ name: "sandbox.test", type: "A" }, TEST_RECORDS, "test");
  const [answer] = out?.answers ?? [];
  assert.equal(answer?.type === "A" && answer.data, "172.16.0.2");
  assert.equal(answerFromZone({ name: "sandbox.vm", type: "A" }, TEST_RECORDS, "test"), undefined);
});

test("reverse names parse only as four canonical octets", () => {
  assert.equal(addressOfReverseName("4.3.2.1.in-addr.arpa"), "1.2.3.4");
  assert.equal(addressOfReverseName("0.0.0.255.in-addr.arpa"), "255.0.0.0");
  for (const bad of ["3.2.1.in-addr.arpa", "256.3.2.1.in-addr.arpa", "04.3.2.1.in-addr.arpa"]) {
    assert.equal(addressOfReverseName(bad), undefined, bad);
  }
  assert.equal(addressOfReverseName("x.3.2.1.in-addr.arpa"), undefined);
  assert.equal(addressOfReverseName("5.4.3.2.1.in-addr.arpa"), undefined);
});
