// Private: the archive's Packages index: reading its stanzas and finding the concrete kernel
// package behind a metapackage.
import { BangerError } from "../errors/index.js";

/** One package paragraph: field name to value (continuation lines joined with "\n"). */
export type Stanza = Map<string, string>;

/** A package file in the archive, as the signed index describes it. */
export interface PoolPackage {
  name: string;
  version: string;
  /** Path relative to the mirror root, always under `pool/`. */
  filename: string;
  sizeBytes: number;
  sha256: string;
}

/**
 * Collects the stanzas of a Packages index read line by line, keeping only those for which
 * `keep(packageName)` is true so the 50 MB index never sits in memory.
 */
export async function collectStanzas(
  lines: AsyncIterable<string> | Iterable<string>,
  keep: (name: string) => boolean,
): Promise<Stanza[]> {
  const out: Stanza[] = [];
  let cur: Stanza = new Map();
  let lastField: string | undefined;
  const flush = (): void => {
    const name = cur.get("Package");
    if (name !== undefined && keep(name)) out.push(cur);
    cur = new Map();
    lastField = undefined;
  };

  for await (const line of lines) {
    if (line.trim() === "") {
      flush();
    } else if (/^[ \t]/.test(line)) {
      if (lastField !== undefined) cur.set(lastField, `${cur.get(lastField)}\n${line.trim()}`);
    } else {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      lastField = line.slice(0, colon);
      cur.set(lastField, line.slice(colon + 1).trim());
    }
  }
  flush();
  return out;
}

/**
 * The concrete `linux-image-<version>` package that `metapackage` depends on, with the archive
 * path and hash of its .deb. Fails with KERNEL_FETCH_FAILED when the index does not say.
 */
export function resolveKernelPackage(stanzas: readonly Stanza[], metapackage: string): PoolPackage {
  const meta = newest(stanzas.filter((s) => s.get("Package") === metapackage));
  if (meta === undefined) throw indexError(`package "${metapackage}" is not in the index`);

  const dep = kernelDependency(meta.get("Depends") ?? "");
  if (dep === undefined) {
    throw indexError(`"${metapackage}" does not depend on a linux-image package`);
  }
  const candidates = stanzas.filter(
    (s) =>
      s.get("Package") === dep.name &&
      (dep.version === undefined || s.get("Version") === dep.version),
  );
  const pkg = newest(candidates);
  if (pkg === undefined) {
    throw indexError(`"${dep.name}" (needed by "${metapackage}") is not in the index`);
  }
  return toPoolPackage(pkg);
}

/** The first `linux-image-*` name in a Depends field, and its `(= version)` when pinned. */
export function kernelDependency(
  depends: string,
): { name: string; version: string | undefined } | undefined {
  for (const clause of depends.split(",")) {
    const first = clause.split("|")[0]?.trim() ?? "";
    const m = /^(linux-image-[a-z0-9.+-]+)\s*(?:\(\s*=\s*([A-Za-z0-9.+~:-]+)\s*\))?/.exec(first);
    if (m?.[1] !== undefined) return { name: m[1], version: m[2] };
  }
  return undefined;
}

function toPoolPackage(s: Stanza): PoolPackage {
  const name = s.get("Package") ?? "";
  const version = s.get("Version") ?? "";
  const filename = s.get("Filename") ?? "";
  const size = s.get("Size") ?? "";
  const sha256 = s.get("SHA256") ?? "";
  // The index is signed, but a path that leaves pool/ or a malformed hash is still refused.
  if (!/^pool\/[A-Za-z0-9+._~/-]+\.deb$/.test(filename) || filename.includes("..")) {
    throw indexError(`"${name}" has an unsafe Filename "${filename}"`);
  }
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw indexError(`"${name}" has no valid SHA256`);
  if (!/^\d+$/.test(size)) throw indexError(`"${name}" has no valid Size`);
  return { name, version, filename, sizeBytes: Number(size), sha256 };
}

// Debian's main suite carries one version per package; when several appear, the later stanza
// wins rather than implementing dpkg's full version comparison.
function newest(stanzas: readonly Stanza[]): Stanza | undefined {
  return stanzas.at(-1);
}

function indexError(why: string): BangerError {
  return new BangerError("KERNEL_FETCH_FAILED", `cannot resolve the kernel package: ${why}`, {
    hint: "the mirror may be mid-sync; retry later or pass another mirror",
  });
}
