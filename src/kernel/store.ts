// Private: the kernel store, `<kernelsDir>/<name>/{vmlinuz,initrd.img,manifest.json}`;
// a directory without a manifest is not a kernel.
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { BangerError, isErrno } from "../errors/index.js";
import { kernelDir, type Paths } from "../paths/index.js";
import { checkKernelName, isKernelName } from "./catalog.js";
import type { KernelInfo } from "./types.js";

export const KERNEL_FILE = "vmlinuz";
export const INITRD_FILE = "initrd.img";
export const MANIFEST_FILE = "manifest.json";

// Paths are stored relative so a state dir can move; they are resolved on every read.
const manifestSchema = z.object({
  schema: z.literal(1),
  name: z.string(),
  version: z.string(),
  source: z.object({
    suite: z.string(),
    package: z.string(),
    debVersion: z.string(),
    sha256: z.string(),
  }),
  createdAt: z.string(),
});
export type KernelManifest = z.infer<typeof manifestSchema>;

/** Reads one stored kernel; KERNEL_NOT_FOUND when absent or its manifest is unreadable. */
export async function getKernel(paths: Paths, name: string): Promise<KernelInfo> {
  checkKernelName(name);
  const info = await readKernel(paths, name);
  if (info === undefined) {
    throw new BangerError("KERNEL_NOT_FOUND", `kernel "${name}" is not in the store`, {
      hint: `run \`banger kernel pull ${name}\`, or \`banger kernel list\` to see what is there`,
    });
  }
  return info;
}

/** Every stored kernel, sorted by name; an absent store is empty. */
export async function listKernels(paths: Paths): Promise<KernelInfo[]> {
  let names: string[];
  try {
    names = (await readdir(paths.kernelsDir, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && isKernelName(d.name))
      .map((d) => d.name)
      .sort();
  } catch (err) {
    if (isErrno(err, "ENOENT")) return [];
    throw err;
  }
  const out: KernelInfo[] = [];
  for (const name of names) {
    const info = await readKernel(paths, name);
    if (info !== undefined) out.push(info);
  }
  return out;
}

/** A stored kernel, or undefined when it has no manifest; KERNEL_NOT_FOUND when unreadable. */
export async function readKernel(paths: Paths, name: string): Promise<KernelInfo | undefined> {
  const dir = kernelDir(paths, name);
  let text: string;
  try {
    text = await readFile(path.join(dir, MANIFEST_FILE), "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  const parsed = manifestSchema.safeParse(parseJson(text));
  if (!parsed.success || parsed.data.name !== name) {
    throw new BangerError("KERNEL_NOT_FOUND", `kernel "${name}" is unusable: bad manifest`, {
      hint: `run \`banger kernel rm ${name} && banger kernel pull ${name}\``,
    });
  }
  return toInfo(dir, parsed.data);
}

/** Writes the manifest into a staged kernel directory; call it after every other file. */
export async function writeManifest(stagedDir: string, manifest: KernelManifest): Promise<void> {
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFile(path.join(stagedDir, MANIFEST_FILE), text, { mode: 0o644 });
}

/**
 * Moves a complete staged kernel directory into the store. When another build published the
 * same name first, the staged copy is dropped and the stored one wins.
 */
export async function publishKernel(stagedDir: string, paths: Paths, name: string): Promise<void> {
  try {
    await rename(stagedDir, kernelDir(paths, name));
  } catch (err) {
    if (!isErrno(err, "ENOTEMPTY") && !isErrno(err, "EEXIST")) throw err;
    await rm(stagedDir, { recursive: true, force: true });
  }
}

export function toInfo(dir: string, m: KernelManifest): KernelInfo {
  return {
    name: m.name,
    version: m.version,
    kernelPath: path.join(dir, KERNEL_FILE),
    initrdPath: path.join(dir, INITRD_FILE),
    source: m.source,
    createdAt: m.createdAt,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
