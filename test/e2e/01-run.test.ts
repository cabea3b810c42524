import assert from "node:assert/strict";
import { after, test } from "node:test";
import { banger, cleanup, list, ok, show, uniqueName } from "./harness.js";

const names: string[] = [];
after(() => cleanup(...names));

// The first test builds the default kernel and image when the state dir has none: budget for it.
test(
  "vm run --rm -- uname -a prints the guest's kernel line and deletes the VM",
  { timeout: 1_800_000 },
  async () => {
    const name = uniqueName("run");
    names.push(name);
    const r = await banger(["vm", "run", "--rm", "--name", name, "--", "uname", "-a"], {
      timeoutMs: 1_800_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Linux ${name} \\S+-cloud-amd64 .* x86_64 GNU/Linux\\n$`));
    assert.ok(!(await list()).some((vm) => vm.name === name), "the VM is gone after --rm");
  },
);

test("the guest command's exit status becomes banger's", { timeout: 300_000 }, async () => {
  const name = uniqueName("exit");
  names.push(name);
  const r = await banger(["vm", "run", "--rm", "--name", name, "--", "sh", "-c", "exit 7"]);
  assert.equal(r.code, 7, r.stderr);
});

test("arguments reach the guest command unchanged", { timeout: 300_000 }, async () => {
  const name = uniqueName("args");
  names.push(name);
  const tricky = `it's a "test" $HOME; *`;
  const r = await banger([
    "vm",
    "run",
    "--rm",
    "--name",
    name,
    "--",
    "printf",
    "%s|",
    tricky,
    "b c",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${tricky}|b c|`);
});

test("-d --rm is refused as a usage error", async () => {
  const r = await banger(["vm", "run", "-d", "--rm"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /-d and --rm cannot be combined/);
});

test(
  "vm run -d leaves a running VM whose console shows the boot",
  { timeout: 300_000 },
  async () => {
    const name = uniqueName("logs");
    names.push(name);
    const out = await ok(["vm", "run", "-d", "--name", name]);
    assert.equal(out.trim(), name);
    const vm = await show(name);
    assert.equal(vm.state, "running");
    assert.match(vm.address ?? "", /^172\.16\.99\.\d+$/);
    const logs = await ok(["vm", "logs", name]);
    assert.match(logs, /Linux version \S+-cloud-amd64/);
    await ok(["vm", "delete", name]);
  },
);
