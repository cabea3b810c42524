import { access, constants } from "node:fs/promises";
import path from "node:path";

/** The absolute path of `name` on PATH (plus the sbin dirs), or undefined when absent. */
export async function which(
  name: string,
  envPath = process.env["PATH"] ?? "",
): Promise<string | undefined> {
  const dirs = [...envPath.split(":"), "/usr/local/sbin", "/usr/sbin", "/sbin"].filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
