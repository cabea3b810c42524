// Private: getting a kernel into the store: fetch, verify, extract, build the initramfs,
// publish atomically. Concurrent callers in one process share one build.
import { access, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { step, type Reporter } from "../api/progress.js";
import { BangerError, isErrno } from "../errors/index.js";
import { run } from "../host/index.js";
import type { Paths } from "../paths/index.js";
import { buildBaseInitrd } from "./base-initrd.js";
import { catalogEntry, checkKernelName, DEFAULT_KERNEL, DEFAULT_MIRROR } from "./catalog.js";
import { fetchDeb, resolvePackage, type ArchiveSource } from "./debian-archive.js";
import { joinBuild } from "./shared-build.js";
import {
  getKernel,
  INITRD_FILE,
  KERNEL_FILE,
  publishKernel,
  readKernel,
  writeManifest,
} from "./store.js";
import type { KernelInfo } from "./types.js";

export interface EnsureKernelOptions {
  paths: Paths;
  name?: string;
  mirror: string;
  report: Reporter;
  signal?: AbortSignal;
}

const DPKG_TIMEOUT_MS = 300_000;

/** See index.ts for the contract. */
export async function ensureKernel(opts: EnsureKernelOptions): Promise<KernelInfo> {
  const name = opts.name ?? DEFAULT_KERNEL;
  checkKernelName(name);
  const stored = await readKernel(opts.paths, name);
  if (stored !== undefined) return stored;
  const key = `${opts.paths.kernelsDir}\0${name}`;
  return joinBuild(key, opts.report, opts.signal, (report, signal) =>
    buildKernel({ ...opts, name, report, signal }),
  );
}

async function buildKernel(o: EnsureKernelOptions & { name: string; signal: AbortSignal }) {
  const { suite, metapackage } = catalogEntry(o.name);
  const src: ArchiveSource = { mirror: normalizeMirror(o.mirror), suite, signal: o.signal };
  await mkdir(o.paths.stagingDir, { recursive: true });
  await mkdir(o.paths.kernelsDir, { recursive: true });
  const work = await mkdtemp(path.join(o.paths.stagingDir, `kernel-${o.name}-`));
  try {
    const pkg = await step(o.report, "kernel-index", `Reading the ${suite} package index`, () =>
      resolvePackage(src, metapackage, work),
    );
    const deb = await step(o.report, "kernel-download", `Downloading ${pkg.name}`, () =>
      fetchDeb(src, pkg, o.paths.cacheDir, o.report, "kernel-download"),
    );
    const root = path.join(work, "root");
    await step(o.report, "kernel-extract", `Extracting ${pkg.name}`, () =>
      run("dpkg-deb", ["-x", deb, root], { timeoutMs: DPKG_TIMEOUT_MS, signal: o.signal }),
    );

    const version = pkg.name.slice("linux-image-".length);
    const staged = path.join(work, o.name);
    await mkdir(staged);
    await step(o.report, "kernel-initrd", `Building the initramfs for ${version}`, async () => {
      const initrd = await buildBaseInitrd(root, version);
      await writeFile(path.join(staged, INITRD_FILE), initrd.data, { mode: 0o644 });
    });
    await copyKernelImage(root, version, path.join(staged, KERNEL_FILE));
    throwIfAborted(o.signal);

    const manifest = {
      schema: 1 as const,
      name: o.name,
      version,
      source: { suite, package: pkg.name, debVersion: pkg.version, sha256: pkg.sha256 },
      createdAt: new Date().toISOString(),
    };
    await writeManifest(staged, manifest);
    await publishKernel(staged, o.paths, o.name);
    return await getKernel(o.paths, o.name);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function copyKernelImage(root: string, version: string, dest: string): Promise<void> {
  if (!/^[A-Za-z0-9.+_-]+$/.test(version)) throw new Error(`unsafe kernel version "${version}"`);
  const src = path.join(root, "boot", `vmlinuz-${version}`);
  try {
    await access(src);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
    throw new BangerError(
      "KERNEL_FETCH_FAILED",
      `package has no kernel: "boot/vmlinuz-${version}" is missing`,
      {
        hint: "pick another kernel with `banger kernel pull <name>`",
      },
    );
  }
  await copyFile(src, dest);
}

function normalizeMirror(mirror: string): string {
  const url = URL.canParse(mirror) ? new URL(mirror) : undefined;
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new BangerError("INVALID_ARGUMENT", `invalid mirror "${mirror}": not an http(s) URL`, {
      hint: `use the default, ${DEFAULT_MIRROR}`,
    });
  }
  return mirror.replace(/\/+$/, "");
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new BangerError("INTERRUPTED", "kernel build interrupted");
}
