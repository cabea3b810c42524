// Private: storing a kernel from the host (`kernel import`), with banger's own initramfs built
// from a modules directory, or an initramfs the user vouches for.
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { step, type Reporter } from "../api/progress.js";
import { BangerError, isErrno } from "../errors/index.js";
import { run } from "../host/index.js";
import { kernelDir, type Paths } from "../paths/index.js";
import { buildBaseInitrd } from "./base-initrd.js";
import { bzImageVersion } from "./bzimage.js";
import { checkKernelName } from "./catalog.js";
import { getKernel, INITRD_FILE, KERNEL_FILE, publishKernel, writeManifest } from "./store.js";
import type { KernelInfo } from "./types.js";

const COPY_TIMEOUT_MS = 300_000;

export interface ImportKernelOptions {
  paths: Paths;
  name: string;
  /** A host bzImage, e.g. /boot/vmlinuz-6.1.0-18-cloud-amd64. */
  kernelPath: string;
  /** A banger-compatible initramfs, used as is. */
  initrdPath?: string;
  /** The kernel's modules, `/lib/modules/<release>`: banger builds its initramfs from them. */
  modulesDir?: string;
  report: Reporter;
}

export async function importKernel(opts: ImportKernelOptions): Promise<KernelInfo> {
  checkKernelName(opts.name);
  if ((opts.initrdPath === undefined) === (opts.modulesDir === undefined)) {
    throw new BangerError("USAGE", "kernel import needs exactly one of --initrd and --modules", {
      hint: `banger kernel import ${opts.name} --kernel /boot/vmlinuz-$(uname -r) --modules /lib/modules/$(uname -r)`,
    });
  }
  await refuseTaken(opts.paths, opts.name);
  await checkInputFile(opts.kernelPath, "kernel");
  const image = await readFile(opts.kernelPath);
  const version = bzImageVersion(image, opts.kernelPath);

  await mkdir(opts.paths.stagingDir, { recursive: true });
  await mkdir(opts.paths.kernelsDir, { recursive: true });
  const work = await mkdtemp(path.join(opts.paths.stagingDir, `kernel-import-${opts.name}-`));
  try {
    const staged = path.join(work, opts.name);
    await mkdir(staged);
    await writeFile(path.join(staged, KERNEL_FILE), image, { mode: 0o644 });
    await step(opts.report, "kernel-initrd", `Preparing the initramfs for ${version}`, () =>
      stageInitrd(opts, version, work, path.join(staged, INITRD_FILE)),
    );
    await writeManifest(staged, {
      schema: 1,
      name: opts.name,
      version,
      source: {
        suite: "imported",
        package: path.resolve(opts.kernelPath),
        debVersion: version,
        sha256: createHash("sha256").update(image).digest("hex"),
      },
      createdAt: new Date().toISOString(),
    });
    await publishKernel(staged, opts.paths, opts.name);
    return await getKernel(opts.paths, opts.name);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function stageInitrd(
  opts: ImportKernelOptions,
  version: string,
  work: string,
  dest: string,
): Promise<void> {
  if (opts.initrdPath !== undefined) {
    await checkInputFile(opts.initrdPath, "initrd");
    await copyFile(opts.initrdPath, dest);
    return;
  }
  const modulesDir = path.resolve(opts.modulesDir ?? "");
  await checkInputFile(path.join(modulesDir, "modules.builtin"), "modules");
  // The build writes into the tree (depmod output, decompressed modules): give it a copy,
  // hard-linked where the filesystem allows, so the host's modules stay untouched.
  const copy = path.join(work, "pkg/lib/modules", version);
  await mkdir(path.dirname(copy), { recursive: true });
  const cp = (flags: string): Promise<unknown> =>
    run("cp", [flags, "--", modulesDir, copy], { timeoutMs: COPY_TIMEOUT_MS });
  await cp("-al").catch(() => rm(copy, { recursive: true, force: true }).then(() => cp("-a")));
  const initrd = await buildBaseInitrd(path.join(work, "pkg"), version);
  await writeFile(dest, initrd.data, { mode: 0o644 });
}

async function checkInputFile(file: string, what: string): Promise<void> {
  try {
    if (!(await stat(file)).isFile()) throw new Error("not a regular file");
  } catch (err) {
    const why = isErrno(err, "ENOENT")
      ? "it does not exist"
      : err instanceof Error
        ? err.message
        : String(err);
    throw new BangerError("INVALID_ARGUMENT", `cannot import ${what} "${file}": ${why}`, {
      hint: "give the path of a file on the host",
      cause: err,
    });
  }
}

async function refuseTaken(paths: Paths, name: string): Promise<void> {
  try {
    await stat(kernelDir(paths, name));
  } catch (err) {
    if (isErrno(err, "ENOENT")) return;
    throw err;
  }
  throw new BangerError("KERNEL_EXISTS", `cannot import kernel "${name}": it exists`, {
    hint: `choose another name, or remove it with \`banger kernel rm ${name}\``,
  });
}
