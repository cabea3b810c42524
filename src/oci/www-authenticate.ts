// Private: the registry's WWW-Authenticate challenge (RFC 7235 auth-params).

export interface Challenge {
  scheme: "bearer" | "basic" | "other";
  params: Record<string, string>;
}

const PARAM = /([a-zA-Z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;

/** The first challenge in the header; registries send one. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (header === null) return undefined;
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (match === null) return undefined;
  const word = (match[1] ?? "").toLowerCase();
  const scheme = word === "bearer" || word === "basic" ? word : "other";
  const params: Record<string, string> = {};
  for (const m of (match[2] ?? "").matchAll(PARAM)) {
    const key = (m[1] ?? "").toLowerCase();
    params[key] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "");
  }
  return { scheme, params };
}
