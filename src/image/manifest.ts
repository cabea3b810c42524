// Private: the on-disk layout of one published image and its manifest file.
import { open, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { BangerError, isErrno } from "../errors/index.js";

/** A published image: a raw ext4 root filesystem plus what banger knows about it. */
export interface ImageInfo {
  /** Also the name of its directory under `imagesDir`, e.g. "debian-bookworm". */
  name: string;
  /** Absolute path of the raw ext4 file. */
  rootfsPath: string;
  /** The image's original /root contents (dotfiles), copied onto each new work disk. */
  rootSkelDir?: string;
  /** Apparent size of `rootfs.ext4`, in bytes. */
  sizeBytes: number;
  /** Where it came from, e.g. "mmdebstrap:bookworm". */
  source: string;
  /** Preferred kernel name, if any. */
  kernel?: string;
  /** True when the image carries banger's guest agent (readiness, `vm ports`, `vm stats`). */
  agent: boolean;
  /** True when the first boot installs systemd or sshd from the network: create with --nat. */
  needsNat?: boolean;
  /** ISO 8601 time the image was published. */
  createdAt: string;
}

export const MANIFEST_FILE = "manifest.json";
export const ROOTFS_FILE = "rootfs.ext4";
export const ROOT_SKEL_DIR = "root-skel";

const manifestSchema = z.object({
  formatVersion: z.literal(1),
  name: z.string().min(1),
  source: z.string().min(1),
  kernel: z.string().min(1).optional(),
  agent: z.boolean().optional(),
  needsNat: z.boolean().optional(),
  /** Absolute path of a registered image's rootfs, used in place; absent for built images. */
  rootfs: z.string().startsWith("/").optional(),
  createdAt: z.string().min(1),
});

export type ImageManifest = z.infer<typeof manifestSchema>;

/**
 * Writes `manifest.json` into `dir` and syncs it; publishing writes it last, so its presence
 * means the image is complete (mkfs syncs the rootfs itself when it closes it).
 */
export async function writeManifest(dir: string, manifest: ImageManifest): Promise<void> {
  const file = await open(path.join(dir, MANIFEST_FILE), "wx", 0o644);
  try {
    await file.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
}

/**
 * Reads the image in `dir` (named `name`). A missing directory, manifest or rootfs, and a
 * manifest that does not parse, all reject with IMAGE_NOT_FOUND naming the file at fault.
 */
export async function readImageDir(dir: string, name: string): Promise<ImageInfo> {
  const manifestPath = path.join(dir, MANIFEST_FILE);
  const manifest = parseManifest(await readManifestText(manifestPath, name), manifestPath, name);
  const rootfsPath = manifest.rootfs ?? path.join(dir, ROOTFS_FILE);
  const sizeBytes = await rootfsSize(rootfsPath, name);
  const info: ImageInfo = {
    name,
    rootfsPath,
    sizeBytes,
    source: manifest.source,
    agent: manifest.agent === true,
    createdAt: manifest.createdAt,
  };
  if (manifest.kernel !== undefined) info.kernel = manifest.kernel;
  if (manifest.needsNat === true) info.needsNat = true;
  if (manifest.rootfs === undefined) info.rootSkelDir = path.join(dir, ROOT_SKEL_DIR);
  return info;
}

async function readManifestText(manifestPath: string, name: string): Promise<string> {
  try {
    return await readFile(manifestPath, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT") || isErrno(err, "ENOTDIR")) {
      throw new BangerError("IMAGE_NOT_FOUND", `image "${name}" does not exist`, {
        hint: "see the available images with `banger image list`",
        cause: err,
      });
    }
    throw err;
  }
}

/** Parses manifest text; anything malformed is IMAGE_NOT_FOUND naming `manifestPath`. */
export function parseManifest(text: string, manifestPath: string, name: string): ImageManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw corrupt(name, manifestPath, "it is not valid JSON", err);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? "" : ` at "${issue.path.join(".")}"`;
    throw corrupt(name, manifestPath, `unexpected content${where}`, parsed.error);
  }
  if (parsed.data.name !== name) {
    throw corrupt(name, manifestPath, `it names image "${parsed.data.name}"`, undefined);
  }
  return parsed.data;
}

async function rootfsSize(rootfsPath: string, name: string): Promise<number> {
  try {
    return (await stat(rootfsPath)).size;
  } catch (err) {
    if (isErrno(err, "ENOENT")) throw corrupt(name, rootfsPath, "the file is missing", err);
    throw err;
  }
}

function corrupt(name: string, file: string, why: string, cause: unknown): BangerError {
  return new BangerError("IMAGE_NOT_FOUND", `image "${name}" is unusable: "${file}": ${why}`, {
    hint: `remove it with \`banger image delete ${name}\`, then build or pull it again`,
    cause,
  });
}
