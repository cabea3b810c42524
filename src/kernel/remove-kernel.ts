// Private: removing a stored kernel, refused while images or VMs name it.
import { rm, stat } from "node:fs/promises";
import { BangerError, isErrno } from "../errors/index.js";
import { kernelDir, type Paths } from "../paths/index.js";
import { checkKernelName } from "./catalog.js";

/**
 * Removes a stored kernel. Refused with KERNEL_IN_USE naming the images and VMs in `usedBy`
 * (each already quoted and labelled); KERNEL_NOT_FOUND when it is not stored.
 */
export async function removeKernel(paths: Paths, name: string, usedBy: string[]): Promise<void> {
  checkKernelName(name);
  try {
    await stat(kernelDir(paths, name));
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
    throw new BangerError("KERNEL_NOT_FOUND", `kernel "${name}" is not in the store`, {
      hint: "run `banger kernel list` to see what is there",
    });
  }
  if (usedBy.length > 0) {
    throw new BangerError(
      "KERNEL_IN_USE",
      `cannot remove kernel "${name}": used by ${usedBy.join(", ")}`,
      {
        hint: "delete those VMs and images first (`banger vm delete`, `banger image delete`)",
      },
    );
  }
  await rm(kernelDir(paths, name), { recursive: true, force: true });
}
