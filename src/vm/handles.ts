import { readFile, rm, writeFile, rename } from "node:fs/promises";
import { isErrno } from "../errors/index.js";
import type { VmmHandle } from "../vmm/index.js";

/** Momentary facts about a running VM, kept beside it and re-checked on every read. */
export interface VmHandles {
  vmm: VmmHandle;
  tap: string;
  address: string;
  accel: string;
  startedAt: string;
}

export async function readHandles(file: string): Promise<VmHandles | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as Partial<VmHandles>;
    if (typeof parsed.vmm?.pid !== "number" || typeof parsed.tap !== "string") return undefined;
    return parsed as VmHandles;
  } catch (err) {
    if (isErrno(err, "ENOENT") || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

export async function writeHandles(file: string, handles: VmHandles): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(handles, null, 2) + "\n");
  await rename(tmp, file);
}

export async function removeHandles(file: string): Promise<void> {
  await rm(file, { force: true });
}
