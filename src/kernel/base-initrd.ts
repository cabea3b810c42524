// Private: banger's base initramfs for one extracted kernel package: static busybox, /init
// and the modules the boot needs.
import { access, readFile, mkdir, symlink } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { BangerError, isErrno } from "../errors/index.js";
import { run } from "../host/index.js";
import { writeCpio, type CpioEntry } from "./cpio-writer.js";
import { INITRD_MODULES_DIR, renderInitScript } from "./init-script.js";
import { moduleName, parseModulesBuiltin, parseModulesDep, planModules } from "./module-deps.js";
import { checkStaticElf } from "./static-elf.js";

/** What the boot needs: virtio-mmio discovery, disk, network, console, entropy, ext4, vsock. */
export const BOOT_MODULES = [
  "virtio_mmio",
  "virtio_blk",
  "virtio_net",
  "virtio_console",
  "virtio_rng",
  "ext4",
  "vsock",
  "vmw_vsock_virtio_transport",
] as const;

export const HOST_BUSYBOX = "/bin/busybox";
const TOOL_TIMEOUT_MS = 120_000;

export interface BaseInitrd {
  /** gzip-compressed newc archive. */
  data: Buffer;
  /** Module files loaded by /init, in load order. */
  modules: string[];
  /** Wanted modules that this kernel has built in. */
  builtin: string[];
}

/**
 * Builds the base initramfs for the kernel `version` extracted under `pkgRoot` (a `dpkg-deb -x`
 * tree, which it may modify: depmod output, decompressed modules). Fails with
 * INITRD_BUILD_FAILED when a needed module is missing or the host busybox is not static.
 */
export async function buildBaseInitrd(
  pkgRoot: string,
  version: string,
  busyboxPath = HOST_BUSYBOX,
): Promise<BaseInitrd> {
  const modDir = await findModulesDir(pkgRoot, version);
  const depText = await readModulesDep(pkgRoot, modDir, version);
  const builtinText = await readFile(path.join(modDir, "modules.builtin"), "utf8");
  const plan = planModules(
    BOOT_MODULES,
    parseModulesDep(depText),
    parseModulesBuiltin(builtinText),
  );
  if (plan.missing.length > 0) {
    throw initrdError(`kernel ${version} has no module ${plan.missing.map(q).join(", ")}`);
  }

  const moduleEntries: CpioEntry[] = [];
  for (const rel of plan.load) {
    if (rel.startsWith("/") || rel.split("/").includes("..")) {
      throw initrdError(`modules.dep names an unsafe path ${q(rel)}`);
    }
    const data = await readModule(path.join(modDir, rel));
    const name = `${moduleName(rel)}.ko`;
    moduleEntries.push({ kind: "file", name: `${INITRD_MODULES_DIR}/${name}`, mode: 0o644, data });
  }
  const loadOrder = moduleEntries.map((e) => path.basename(e.name));

  const busybox = await readFile(busyboxPath);
  checkStaticElf(busybox, busyboxPath);
  const entries = skeleton(busybox, renderInitScript(loadOrder)).concat(moduleEntries);
  const cpio = writeCpio(entries, Math.floor(Date.now() / 1000));
  return { data: await promisify(gzip)(cpio), modules: loadOrder, builtin: plan.builtin };
}

function skeleton(busybox: Buffer, init: string): CpioEntry[] {
  const dirs = ["/bin", "/dev", "/proc", "/sys", "/newroot", "/lib", INITRD_MODULES_DIR];
  return [
    ...dirs.map((name): CpioEntry => ({ kind: "dir", name, mode: 0o755 })),
    // The kernel opens /dev/console for init's stdio before /init can mount devtmpfs.
    { kind: "chardev", name: "/dev/console", mode: 0o600, major: 5, minor: 1 },
    { kind: "file", name: "/bin/busybox", mode: 0o755, data: busybox },
    { kind: "symlink", name: "/bin/sh", target: "busybox" },
    { kind: "file", name: "/init", mode: 0o755, data: Buffer.from(init, "utf8") },
  ];
}

async function findModulesDir(pkgRoot: string, version: string): Promise<string> {
  for (const base of ["lib/modules", "usr/lib/modules"]) {
    const dir = path.join(pkgRoot, base, version);
    if (await exists(path.join(dir, "modules.builtin"))) return dir;
  }
  throw initrdError(`the package has no lib/modules/${version}/modules.builtin`);
}

// Debian's packages leave modules.dep to depmod at install time. depmod wants
// `<base>/lib/modules/<version>` (older kmod) or `<base>/usr/lib/modules/<version>` (newer), so a
// scratch base offers both, pointing at the package's own directory.
async function readModulesDep(pkgRoot: string, modDir: string, version: string): Promise<string> {
  const depPath = path.join(modDir, "modules.dep");
  if (!(await exists(depPath))) {
    const base = path.join(pkgRoot, ".depmod-base");
    for (const sub of ["lib/modules", "usr/lib/modules"]) {
      await mkdir(path.join(base, sub), { recursive: true });
      await symlink(modDir, path.join(base, sub, version));
    }
    await run("depmod", ["-b", base, version], { timeoutMs: TOOL_TIMEOUT_MS });
  }
  return readFile(depPath, "utf8");
}

// busybox insmod passes the file straight to init_module(), so compressed modules are
// decompressed here; the tree is a staging copy, so in place is fine.
async function readModule(file: string): Promise<Buffer> {
  const opts = { timeoutMs: TOOL_TIMEOUT_MS };
  if (file.endsWith(".ko.xz")) {
    await run("xz", ["--decompress", "--keep", "--force", "--", file], opts);
    return readFile(file.slice(0, -".xz".length));
  }
  if (file.endsWith(".ko.zst")) {
    await run("zstd", ["--decompress", "--quiet", "--force", "-o", file.slice(0, -4), file], opts);
    return readFile(file.slice(0, -".zst".length));
  }
  if (file.endsWith(".ko.gz")) {
    await run("gzip", ["--decompress", "--keep", "--force", "--", file], opts);
    return readFile(file.slice(0, -".gz".length));
  }
  return readFile(file);
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch (err) {
    if (isErrno(err, "ENOENT")) return false;
    throw err;
  }
}

function initrdError(why: string): BangerError {
  return new BangerError("INITRD_BUILD_FAILED", `cannot build the initramfs: ${why}`, {
    hint: "pick another kernel with `banger kernel pull <name>`",
  });
}

function q(s: string): string {
  return JSON.stringify(s);
}
