// Private: which kernel modules to load, in which order, from depmod's modules.dep.

/** A module's file path relative to `lib/modules/<version>/`, mapped to its direct dependencies. */
export type ModuleDeps = Map<string, string[]>;

/** Parses modules.dep ("path: dep dep …" per line); malformed lines are ignored. */
export function parseModulesDep(text: string): ModuleDeps {
  const deps: ModuleDeps = new Map();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const file = line.slice(0, colon).trim();
    const rest = line.slice(colon + 1).trim();
    deps.set(file, rest === "" ? [] : rest.split(/\s+/));
  }
  return deps;
}

/** Names of the modules compiled into the kernel, from modules.builtin (one path per line). */
export function parseModulesBuiltin(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    if (line.trim() !== "") names.add(moduleName(line.trim()));
  }
  return names;
}

/**
 * The kernel's name for a module file: basename without `.ko[.xz|.zst|.gz]`, with dashes
 * folded to underscores (the kernel treats them as the same).
 */
export function moduleName(file: string): string {
  const base = file.slice(file.lastIndexOf("/") + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, "").replaceAll("-", "_");
}

export interface ModulePlan {
  /** Files to load, every dependency before the modules that need it, each once. */
  load: string[];
  /** Wanted modules that are compiled into the kernel. */
  builtin: string[];
  /** Wanted modules that are neither loadable nor built in. */
  missing: string[];
}

/**
 * Resolves `wanted` module names against modules.dep and modules.builtin. The order is a
 * depth-first post-order over the dependency graph; a cycle (which depmod would refuse anyway)
 * is cut where it closes instead of looping.
 */
export function planModules(
  wanted: readonly string[],
  deps: ModuleDeps,
  builtin: ReadonlySet<string>,
): ModulePlan {
  const byName = new Map<string, string>();
  for (const file of deps.keys()) byName.set(moduleName(file), file);

  const plan: ModulePlan = { load: [], builtin: [], missing: [] };
  const done = new Set<string>();
  const onPath = new Set<string>();
  const visit = (file: string): void => {
    if (done.has(file) || onPath.has(file)) return;
    onPath.add(file);
    // modprobe loads a modules.dep list from its end; keep that order among unrelated deps.
    for (const dep of [...(deps.get(file) ?? [])].reverse()) visit(dep);
    onPath.delete(file);
    done.add(file);
    plan.load.push(file);
  };

  for (const raw of wanted) {
    const name = moduleName(raw);
    const file = byName.get(name);
    if (file !== undefined) visit(file);
    else if (builtin.has(name)) plan.builtin.push(name);
    else plan.missing.push(name);
  }
  return plan;
}
