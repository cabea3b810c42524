import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { MASKED_UNITS, maskUnits, writeUnitLinks } from "./systemd-units.js";

async function tempRoot(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "banger-units-"));
}

test("maskUnits points each unit at /dev/null, replacing files, and can run twice", async (t) => {
  const root = await tempRoot();
  t.after(() => rm(root, { recursive: true, force: true }));
  const unitDir = path.join(root, "etc/systemd/system");
  await mkdir(unitDir, { recursive: true });
  await writeFile(path.join(unitDir, "fstrim.timer"), "[Timer]\n");

  await maskUnits(root, ["fstrim.timer", "getty@tty1.service"]);
  await maskUnits(root, ["fstrim.timer", "getty@tty1.service"]);

  for (const unit of ["fstrim.timer", "getty@tty1.service"]) {
    const link = path.join(unitDir, unit);
    assert.ok((await lstat(link)).isSymbolicLink(), unit);
    assert.equal(await readlink(link), "/dev/null");
  }
});

test("the mask list keeps the serial console and sshd", () => {
  assert.ok(MASKED_UNITS.includes("systemd-networkd-wait-online.service"));
  assert.ok(MASKED_UNITS.includes("apt-daily.timer"));
  assert.ok(MASKED_UNITS.includes("systemd-firstboot.service"));
  for (const unit of MASKED_UNITS) assert.doesNotMatch(unit, /serial-getty|ssh|networkd\.service/);
});

test("writeUnitLinks creates the wants directory and refuses paths that climb out", async (t) => {
  const root = await tempRoot();
  t.after(() => rm(root, { recursive: true, force: true }));
  const target = "/lib/systemd/system/systemd-networkd.socket";
  await writeUnitLinks(root, [{ link: "sockets.target.wants/systemd-networkd.socket", target }]);
  const link = path.join(root, "etc/systemd/system/sockets.target.wants/systemd-networkd.socket");
  assert.equal(await readlink(link), target);

  for (const bad of ["../x.service", "a/../../b", "a/b/c", ".."]) {
    await assert.rejects(writeUnitLinks(root, [{ link: bad, target }]), /invalid unit link/);
  }
});
