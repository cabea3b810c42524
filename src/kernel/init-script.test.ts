import assert from "node:assert/strict";
import { test } from "node:test";
import { run } from "../host/index.js";
import { renderInitScript } from "./init-script.js";

test("the rendered /init is valid busybox sh and loads modules in the given order", async () => {
  const script = renderInitScript(["virtio.ko", "virtio_ring.ko", "virtio_mmio.ko"]);
  await run("busybox", ["sh", "-n"], { input: script });
  assert.match(script, /for m in virtio\.ko virtio_ring\.ko virtio_mmio\.ko; do/);
  assert.match(script, /exec switch_root \/newroot "\$init"/);
  assert.doesNotMatch(script, /@[A-Z_]+@/);
});

test("refuses module names that would be shell syntax", () => {
  assert.throws(() => renderInitScript(["x.ko; reboot"]), /unsafe module/);
  assert.throws(() => renderInitScript(["$(id).ko"]), /unsafe module/);
});
