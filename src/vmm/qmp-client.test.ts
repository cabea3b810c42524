import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { QmpClient, qmpExecute } from "./qmp-client.js";

interface Command {
  execute: string;
  arguments?: unknown;
  id?: unknown;
}

type Behaviour = (cmd: Command, reply: (msg: object) => void) => void;

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "qmp-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fake qemu QMP endpoint: greets (unless told not to) and answers per `behaviour`. */
async function fakeQmp(
  name: string,
  behaviour: Behaviour,
  greet = true,
): Promise<{ socketPath: string; seen: Command[]; close: () => Promise<void> }> {
  const socketPath = path.join(dir, `${name}.sock`);
  const seen: Command[] = [];
  const server = net.createServer((conn) => {
    const reply = (msg: object): void => void conn.write(`${JSON.stringify(msg)}\r\n`);
    if (greet) reply({ QMP: { version: { qemu: { major: 7 } }, capabilities: [] } });
    let buf = "";
    conn.setEncoding("utf8").on("data", (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const cmd = JSON.parse(buf.slice(0, i)) as Command;
        buf = buf.slice(i + 1);
        seen.push(cmd);
        if (cmd.execute === "qmp_capabilities") reply({ return: {}, id: cmd.id });
        else behaviour(cmd, reply);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const close = (): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
  return { socketPath, seen, close };
}

test("negotiates capabilities, then returns a command's result", async () => {
  const fake = await fakeQmp("ok", (cmd, reply) => {
    reply({ event: "POWERDOWN", timestamp: { seconds: 1 } });
    reply({ return: { status: "running", echo: cmd.arguments ?? null }, id: cmd.id });
  });
  const result = await qmpExecute(fake.socketPath, "query-status", { verbose: true });
  assert.deepEqual(result, { status: "running", echo: { verbose: true } });
  assert.deepEqual(
    fake.seen.map((c) => c.execute),
    ["qmp_capabilities", "query-status"],
  );
  await fake.close();
});

test("matches replies to commands by id, even out of order", async () => {
  const held: (() => void)[] = [];
  const fake = await fakeQmp("order", (cmd, reply) => {
    held.push(() => reply({ return: cmd.execute, id: cmd.id }));
    if (held.length === 2) for (const send of held.reverse()) send();
  });
  const client = await QmpClient.connect(fake.socketPath);
  const [a, b] = await Promise.all([client.execute("first"), client.execute("second")]);
  assert.equal(a, "first");
  assert.equal(b, "second");
  client.close();
  await fake.close();
});

test("a QMP error reply rejects with VMM_FAILED carrying qemu's description", async () => {
  const fake = await fakeQmp("err", (cmd, reply) => {
    reply({
      error: { class: "CommandNotFound", desc: "The command nope has not been found" },
      id: cmd.id,
    });
  });
  await assert.rejects(qmpExecute(fake.socketPath, "nope"), (err) => {
    assert.ok(isBangerError(err, "VMM_FAILED"));
    assert.match(err.message, /The command nope has not been found/);
    assert.match(err.message, /err\.sock/);
    return true;
  });
  await fake.close();
});

test("a silent command times out within its bound", async () => {
  const fake = await fakeQmp("silent", () => {});
  const started = Date.now();
  await assert.rejects(qmpExecute(fake.socketPath, "system_powerdown", undefined, 200), (err) => {
    assert.ok(isBangerError(err, "VMM_FAILED"));
    assert.match(err.message, /"system_powerdown" got no reply within 200 ms/);
    return true;
  });
  assert.ok(Date.now() - started < 2000);
  await fake.close();
});

test("a server that never greets times out", async () => {
  const fake = await fakeQmp("mute", () => {}, false);
  await assert.rejects(QmpClient.connect(fake.socketPath, 150), /no greeting within 150 ms/);
  await fake.close();
});

test("a missing socket rejects with VMM_FAILED naming the errno", async () => {
  await assert.rejects(qmpExecute(path.join(dir, "absent.sock"), "query-status"), (err) => {
    assert.ok(isBangerError(err, "VMM_FAILED"));
    assert.match(err.message, /ENOENT/);
    return true;
  });
});

test("a connection closed mid-command rejects pending commands", async () => {
  const fake = await fakeQmp("hangup", () => {});
  const client = await QmpClient.connect(fake.socketPath);
  const pending = client.execute("query-status", undefined, 5000);
  client.close();
  await assert.rejects(pending, /connection closed/);
  await assert.rejects(client.execute("again"), /connection closed/);
  await fake.close();
});

test("garbage instead of JSON fails the session", async () => {
  const socketPath = path.join(dir, "garbage.sock");
  const server = net.createServer((conn) => void conn.write("hello, not qmp\n"));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  await assert.rejects(QmpClient.connect(socketPath, 1000), /not JSON/);
  await new Promise((resolve) => server.close(resolve));
});
