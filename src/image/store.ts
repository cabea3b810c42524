// Private: looking up published images under `imagesDir`.
import { readdir } from "node:fs/promises";
import { BangerError, isBangerError, isErrno } from "../errors/index.js";
import { imageDir, type Paths } from "../paths/index.js";
import { readImageDir, type ImageInfo } from "./manifest.js";

// Names become directory names, so nothing that could climb out of imagesDir gets through.
const IMAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/** Rejects with INVALID_NAME unless `name` is safe to use as an image directory name. */
export function checkImageName(name: string): void {
  if (!IMAGE_NAME.test(name)) {
    throw new BangerError(
      "INVALID_NAME",
      `invalid image name "${name}": use lowercase letters, digits, ".", "_" and "-" ` +
        "(at most 128, starting with a letter or digit)",
      { hint: "see the available images with `banger image list`" },
    );
  }
}

export async function getImage(paths: Paths, name: string): Promise<ImageInfo> {
  checkImageName(name);
  return readImageDir(imageDir(paths, name), name);
}

export async function listImages(paths: Paths): Promise<ImageInfo[]> {
  let names: string[];
  try {
    names = await readdir(paths.imagesDir);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return [];
    throw err;
  }

  const images: ImageInfo[] = [];
  for (const name of names.filter((n) => IMAGE_NAME.test(n)).sort()) {
    try {
      images.push(await getImage(paths, name));
    } catch (err) {
      // A broken or foreign directory must not hide the usable images; getImage names it.
      if (!isBangerError(err, "IMAGE_NOT_FOUND")) throw err;
    }
  }
  return images;
}
