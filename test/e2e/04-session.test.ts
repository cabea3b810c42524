import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, test } from "node:test";
import { cleanup, CLI, ENV, show, uniqueName } from "./harness.js";

const names: string[] = [];
after(() => cleanup(...names));

// `script` gives banger a real terminal, as a person at a shell would have.
test(
  "vm run opens an interactive root shell and leaves the VM running",
  { timeout: 300_000 },
  async () => {
    const name = uniqueName("shell");
    names.push(name);
    const command = [CLI, "vm", "run", "--name", name].map((a) => `'${a}'`).join(" ");
    const child = spawn("script", ["-qefc", `${process.execPath} ${command}`, "/dev/null"], {
      env: { ...ENV, TERM: "dumb" },
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      output += c;
      // Type once the guest shell is there.
      if (/# $/m.test(output) && !output.includes("typed")) {
        output += "typed";
        child.stdin.write("echo MARK-$(whoami)-$(hostname)\nexit\n");
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`MARK-root-${name}`));
    assert.match(
      output,
      new RegExp(`VM "${name}" is still running; stop it with: banger vm stop ${name}`),
    );
    assert.equal((await show(name)).state, "running");
  },
);
