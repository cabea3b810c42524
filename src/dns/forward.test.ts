import assert from "node:assert/strict";
import { test } from "node:test";
import { startDnsServer, type DnsServer } from "./index.js";
import { askUdp, query, startFakeUpstream, TEST_RECORDS, type FakeUpstream } from "./testing.js";

async function withServer(
  upstreams: FakeUpstream[],
  fn: (port: number) => Promise<void>,
  upstreamTimeoutMs = 400,
): Promise<void> {
  const server: DnsServer = await startDnsServer({
    host: "127.0.0.1",
    port: 0,
    records: TEST_RECORDS,
    upstreams: upstreams.map((u) => `127.0.0.1:${u.port}`),
    upstreamTimeoutMs,
  });
  try {
    await fn(server.address.port);
  } finally {
    await server.close();
    await Promise.all(upstreams.map((u) => u.close()));
  }
}

test("names outside the zone are forwarded and the reply keeps the client's id", async () => {
  const upstream = await startFakeUpstream("answer");
  await withServer([upstream], async (port) => {
    const reply = await askUdp(port, query("Example.COM", "A", { id: 777 }));
    assert.equal(reply.id, 777);
    assert.equal(reply.rcode, "NOERROR");
    assert.equal(reply.flag_ra, true);
    assert.equal(reply.answers?.[0]?.type === "A" && reply.answers[0].data, "192.0.2.1");
    assert.equal(upstream.received.length, 1);
    assert.equal(upstream.received[0]?.questions?.[0]?.name, "Example.COM");
  });
});

test("the upstream sees a fresh id, not the client's", async () => {
  const upstream = await startFakeUpstream("answer");
  await withServer([upstream], async (port) => {
    const ids = new Set<number | undefined>();
    for (let i = 0; i < 8; i++) {
      await askUdp(port, query("example.com", "A", { id: 1 }));
    }
    upstream.received.forEach((q) => ids.add(q.id));
    assert.ok(ids.size > 1, `upstream saw ids ${[...ids].join(",")}`);
  });
});

test("zone names are never forwarded, and their answers say RA when upstreams exist", async () => {
  const upstream = await startFakeUpstream("answer");
  await withServer([upstream], async (port) => {
    const reply = await askUdp(port, query("sandbox.vm"));
    assert.equal(reply.flag_aa, true);
    assert.equal(reply.flag_ra, true);
    assert.equal((await askUdp(port, query("nope.vm"))).rcode, "NXDOMAIN");
    assert.equal(upstream.received.length, 0);
  });
});

test("a silent upstream gives SERVFAIL within the bound; .vm answers meanwhile", async () => {
  const upstream = await startFakeUpstream("silent");
  await withServer([upstream], async (port) => {
    const started = performance.now();
    const forwarded = askUdp(port, query("slow.example"), 2000).then((r) => ({
      reply: r,
      ms: performance.now() - started,
    }));
    await new Promise((r) => setTimeout(r, 50));

    const vmStarted = performance.now();
    const vm = await askUdp(port, query("sandbox.vm"));
    const vmMs = performance.now() - vmStarted;
    assert.equal(vm.answers?.[0]?.type, "A");
    assert.ok(vmMs < 100, `.vm answer took ${vmMs} ms while a forward was pending`);

    const { reply, ms } = await forwarded;
    assert.equal(reply.rcode, "SERVFAIL");
    assert.ok(ms >= 380 && ms < 900, `SERVFAIL after ${ms} ms, bound 400 ms`);
  });
});

test("a reply with the wrong id is ignored (SERVFAIL on timeout)", async () => {
  const upstream = await startFakeUpstream("wrong-id");
  await withServer([upstream], async (port) => {
    const reply = await askUdp(port, query("spoof.example"), 2000);
    assert.equal(reply.rcode, "SERVFAIL");
    assert.deepEqual(reply.answers, []);
  });
});

test("when the first upstream is silent the next one answers within the bound", async () => {
  const silent = await startFakeUpstream("silent");
  const answering = await startFakeUpstream("answer");
  await withServer(
    [silent, answering],
    async (port) => {
      const started = performance.now();
      const reply = await askUdp(port, query("example.org"), 2000);
      const ms = performance.now() - started;
      assert.equal(reply.rcode, "NOERROR");
      assert.equal(reply.answers?.[0]?.type, "A");
      assert.ok(ms >= 180 && ms < 500, `answered after ${ms} ms`);
      assert.equal(silent.received.length, 1);
    },
    400,
  );
});

test("without RD a name outside the zone is REFUSED, not forwarded", async () => {
  const upstream = await startFakeUpstream("answer");
  await withServer([upstream], async (port) => {
    const reply = await askUdp(port, query("example.com", "A", { flags: 0 }));
    assert.equal(reply.rcode, "REFUSED");
    assert.equal(upstream.received.length, 0);
  });
});

test("many forwards in flight do not slow zone answers", async () => {
  const upstream = await startFakeUpstream("silent");
  await withServer([upstream], async (port) => {
    const pending = Array.from({ length: 100 }, (_, i) =>
      askUdp(port, query(`n${i}.example`), 2000),
    );
    const started = performance.now();
    const vm = await askUdp(port, query("web-1.vm"));
    assert.ok(performance.now() - started < 100);
    assert.equal(vm.answers?.[0]?.type, "A");
    const replies = await Promise.all(pending);
    assert.ok(replies.every((r) => r.rcode === "SERVFAIL"));
  });
});

test("a server that would forward to itself is refused at start", async () => {
  const first = await startDnsServer({ host: "127.0.0.1", port: 0, records: TEST_RECORDS });
  const port = first.address.port;
  await first.close();
  await assert.rejects(
    startDnsServer({
      host: "127.0.0.1",
      port,
      records: TEST_RECORDS,
      upstreams: [`127.0.0.1:${port}`],
    }),
    /its own upstream/,
  );
  // The failed start released its sockets.
  const again = await startDnsServer({ host: "127.0.0.1", port, records: TEST_RECORDS });
  await again.close();
});
