import assert from "node:assert/strict";
import { test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { encodeAgentRequest, parseAgentReply, parseAgentResult } from "./agent-protocol.js";

test("encodeAgentRequest writes one line of protocol version 1", () => {
  assert.equal(encodeAgentRequest(7, "ports"), '{"v":1,"id":7,"method":"ports"}\n');
});

test("parseAgentReply reads success and error replies", () => {
  const ok = parseAgentReply('{"v":1,"id":3,"ok":true,"result":{"x":1}}');
  assert.deepEqual(ok, { v: 1, id: 3, ok: true, result: { x: 1 } });
  const bad = parseAgentReply(
    '{"v":1,"id":null,"ok":false,"error":{"code":"too_large","message":"m"}}',
  );
  assert.equal(bad.ok, false);
  assert.equal(bad.id, null);
});

test("parseAgentReply throws only BangerErrors, with the right code", () => {
  const cases: [string, string][] = [
    ["", "AGENT_PROTOCOL"],
    ["not json", "AGENT_PROTOCOL"],
    ["null", "AGENT_PROTOCOL"],
    ["[1,2]", "AGENT_PROTOCOL"],
    ['{"v":1,"id":1}', "AGENT_PROTOCOL"],
    ['{"v":1,"id":"1","ok":true,"result":{}}', "AGENT_PROTOCOL"],
    ['{"v":1,"id":1,"ok":false,"error":{"code":5}}', "AGENT_PROTOCOL"],
    ['{"v":2,"id":1,"ok":true,"result":{}}', "AGENT_VERSION_MISMATCH"],
  ];
  for (const [line, code] of cases) {
    assert.throws(
      () => parseAgentReply(line),
      (err) => isBangerError(err, code as "AGENT_PROTOCOL"),
      line,
    );
  }
});

test("parseAgentResult checks each method's result shape", () => {
  const port = {
    protocol: "tcp",
    family: "ipv4",
    address: "127.0.0.1",
    port: 22,
    uid: 0,
    inode: 1,
    pid: null,
    process: null,
  };
  assert.equal(parseAgentResult("ports", { ports: [port] }).ports[0]?.port, 22);
  assert.throws(
    () => parseAgentResult("ports", { ports: [{ ...port, port: 70000 }] }),
    (err) => isBangerError(err, "AGENT_PROTOCOL"),
  );
  assert.throws(
    () => parseAgentResult("health", { protocol: 1 }),
    (err) => isBangerError(err, "AGENT_PROTOCOL"),
  );
});
