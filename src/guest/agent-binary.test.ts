// Runs the real agent binary (agent/build/banger-agent) in --stdio mode on this host: every
// method's reply shape, a listener this test opens, hostile process names, and a bounded fuzz.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { run } from "../host/index.js";
import { AgentClient } from "./agent-client.js";
import { parseAgentReply, parseAgentResult, type AgentReply } from "./agent-protocol.js";

const agentDir = fileURLToPath(new URL("../../agent/", import.meta.url));
const binary = path.join(agentDir, "build", "banger-agent");

before(async () => {
  if (!existsSync(binary)) await run("sh", [path.join(agentDir, "build.sh")]);
});

interface AgentRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
}

/** Feeds `input` to `banger-agent --stdio`, kills it after `timeoutMs`. */
function runAgent(input: Buffer | string, timeoutMs = 20_000): Promise<AgentRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["--stdio"], { stdio: ["pipe", "pipe", "ignore"] });
    const out: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stdin.on("error", () => {});
    child.stdin.end(input);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const text = Buffer.concat(out).toString("utf8");
      resolve({ code, signal, lines: text.split("\n").filter((l) => l !== "") });
    });
  });
}

async function ask(lines: string[]): Promise<AgentReply[]> {
  const res = await runAgent(lines.map((l) => `${l}\n`).join(""));
  assert.equal(res.code, 0);
  assert.equal(res.lines.length, lines.length);
  return res.lines.map(parseAgentReply);
}

function request(id: number, method: string): string {
  return JSON.stringify({ v: 1, id, method });
}

function resultOf(reply: AgentReply | undefined): unknown {
  assert.ok(reply?.ok, JSON.stringify(reply));
  return reply.result;
}

function errorOf(reply: AgentReply | undefined): { code: string; message: string } {
  assert.ok(reply !== undefined && !reply.ok, JSON.stringify(reply));
  return reply.error;
}

test("health, stats and poweroff answer with their documented shapes", async () => {
  const [health, stats, off] = await ask([
    request(1, "health"),
    request(2, "stats"),
    request(3, "poweroff"),
  ]);
  const h = parseAgentResult("health", resultOf(health));
  assert.equal(h.protocol, 1);
  assert.match(h.bootId ?? "", /^[0-9a-f-]{36}$/);
  assert.ok((h.uptimeSeconds ?? 0) > 0);
  const s = parseAgentResult("stats", resultOf(stats));
  assert.ok((s.memory.totalBytes ?? 0) > 0);
  assert.ok(s.filesystems.some((f) => f.path === "/" && f.totalBytes > 0));
  assert.deepEqual(resultOf(off), {});
  assert.deepEqual(
    [health, stats, off].map((r) => r?.id),
    [1, 2, 3],
  );
});

test("ports lists a TCP listener of this process with its pid", async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    const [reply] = await ask([request(1, "ports")]);
    const ports = parseAgentResult("ports", resultOf(reply)).ports;
    const mine = ports.find((p) => p.protocol === "tcp" && p.port === port);
    assert.ok(mine, `port ${port} missing from ${JSON.stringify(ports)}`);
    assert.equal(mine.address, "127.0.0.1");
    assert.equal(mine.family, "ipv4");
    assert.equal(mine.pid, process.pid);
    assert.equal(mine.process, "node");
  } finally {
    server.close();
  }
});

test("ports escapes a hostile process name", async () => {
  // The child renames itself through /proc/self/comm (at most 15 bytes), then listens.
  const script = `
    require("fs").writeFileSync("/proc/self/comm", Buffer.from([0x22,0x5c,0x01,0x7b,0xff,0x0a]));
    const s = require("net").createServer().listen(0, "::1", () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = Number(await new Promise<string>((r) => child.stdout.once("data", r)));
    const [reply] = await ask([request(1, "ports")]);
    const ports = parseAgentResult("ports", resultOf(reply)).ports;
    const theirs = ports.find((p) => p.port === port);
    assert.equal(theirs?.family, "ipv6");
    assert.equal(theirs?.address, "::1");
    assert.equal(theirs?.pid, child.pid);
    assert.equal(theirs?.process, '"\\\u0001{\ufffd\n');
  } finally {
    child.kill();
  }
});

test("bad requests get precise errors and the right id", async () => {
  const long = `{"v":1,"id":1,"method":"health","pad":"${"x".repeat(70_000)}"}`;
  const replies = await ask([
    `{"v":2,"id":3,"method":"health"}`,
    `{"v":1,"id":4,"method":"nope"}`,
    `{"v":1,"id":5,"method":"he\\u0000alth"}`,
    `{"v":1,"id":6,"method":"health","id":7}`,
    `{"v":1,"id":9007199254740992,"method":"health"}`,
    `{"v":1,"id":8,"method":"health"} x`,
    `{"v":"1","id":10,"method":"health"}`,
    `{"v":1,"id":11,"method":["health"]}`,
    `${"[".repeat(5000)}`,
    long,
    `{"v":1,"id":12,"method":"\\u0068ealth","params":{"a":[1,2.5e3,null,true]}}`,
    '{"v":1,"id":13,"method":"health\u0000"}',
  ]);
  const codes = replies.map((r) => (r.ok ? "ok" : r.error.code));
  assert.deepEqual(codes, [
    "version_mismatch",
    "bad_request",
    "bad_request",
    "bad_request",
    "bad_request",
    "bad_request",
    "bad_request",
    "bad_request",
    "bad_request",
    "too_large",
    "ok",
    "bad_request",
  ]);
  assert.deepEqual(
    replies.map((r) => r.id),
    [3, 4, 5, null, null, null, 10, 11, null, null, 12, null],
  );
  assert.match(errorOf(replies[0]).message, /version 2.*version 1/);
  assert.match(errorOf(replies[1]).message, /unknown method "nope"/);
});

test("a request without its final newline is answered at EOF", async () => {
  const res = await runAgent(`${request(1, "stats")}\n${request(2, "health")}`);
  assert.equal(res.code, 0);
  assert.deepEqual(
    res.lines.map((l) => parseAgentReply(l).id),
    [1, 2],
  );
});

/** A small seeded generator, so a failing fuzz run can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  '{"v":1,"id":1,"method":"health"}',
  '{"v":1,"id":2,"method":"stats","params":{"a":[1,-2.5e-3,"\\u00e9\\ud83d",null,false]}}',
  '{"id":3,"v":1,"method":"nope"}',
  '{"v":1,"id":4,"method":"x\\"\\\\\\/\\b\\f\\n\\r\\t"}',
];
const TOKENS = [
  '"',
  "\\",
  "{",
  "}",
  "[",
  "]",
  ":",
  ",",
  "\\u0000",
  "1e999",
  "-0",
  "99999999999999999999",
  "\u0000",
  "\u00ff",
  "\ud800",
  "null",
  "poweroff",
];

function mutate(line: string, rand: () => number): string {
  let s = line;
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (s.length + 1));
    const pick = rand();
    if (pick < 0.3) s = s.slice(0, at) + s.slice(at + 1);
    else if (pick < 0.6)
      s = s.slice(0, at) + String.fromCharCode(Math.floor(rand() * 256)) + s.slice(at + 1);
    else s = s.slice(0, at) + TOKENS[Math.floor(rand() * TOKENS.length)] + s.slice(at);
  }
  return s;
}

function randomBytes(rand: () => number): Buffer {
  const bytes = Buffer.alloc(Math.floor(rand() * 300));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
  return bytes;
}

test("fuzz: thousands of hostile lines, one valid reply each, no crash or hang", async () => {
  const seed = Date.now() % 1_000_000;
  const rand = prng(seed);
  const lines: Buffer[] = [];
  for (let i = 0; i < 4000; i++) {
    const seedLine = SEEDS[Math.floor(rand() * SEEDS.length)] ?? "";
    const line = rand() < 0.4 ? randomBytes(rand) : Buffer.from(mutate(seedLine, rand), "utf8");
    // A newline inside would split it into two requests; make it a harmless byte instead.
    lines.push(Buffer.from(line.map((b) => (b === 10 ? 32 : b))));
  }
  lines.push(Buffer.alloc(65_536, 0x20), Buffer.alloc(65_537, 0x7b), Buffer.alloc(200_000, 0x22));

  const res = await runAgent(Buffer.concat(lines.flatMap((l) => [l, Buffer.from("\n")])), 60_000);
  assert.equal(res.signal, null, `agent killed by ${res.signal} (seed ${seed})`);
  assert.equal(res.code, 0, `seed ${seed}`);
  assert.equal(res.lines.length, lines.length, `seed ${seed}`);
  for (const line of res.lines) {
    const reply = parseAgentReply(line);
    if (!reply.ok) {
      assert.ok(["bad_request", "too_large", "version_mismatch"].includes(reply.error.code), line);
    }
  }
  assert.equal(parseAgentReply(res.lines.at(-1) ?? "").ok, false);
});

test("AgentClient talks to the real agent through a unix socket", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "banger-agent-real-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = path.join(dir, "agent.sock");
  // Plays QEMU's part: one agent process behind each connection.
  const server = net.createServer((sock) => {
    const child = spawn(binary, ["--stdio"], { stdio: ["pipe", "pipe", "ignore"] });
    sock.pipe(child.stdin);
    child.stdout.pipe(sock);
    sock.on("error", () => child.kill());
    sock.on("close", () => child.kill());
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const client = new AgentClient({ socketPath, vmName: "real", timeoutMs: 5000 });
  try {
    assert.equal((await client.health()).protocol, 1);
    assert.ok((await client.stats()).cpuCount >= 1);
    assert.ok(Array.isArray(await client.ports()));
    await client.poweroff();
  } finally {
    client.close();
    server.close();
  }
});
