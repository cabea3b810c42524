// Private: Node 20's fetch ignores HTTP(S)_PROXY (undici's EnvHttpProxyAgent is not reachable
// without the undici package), so a pull that a proxy should carry is warned about instead.

/** The warning to show when the environment names a proxy for this registry, else undefined. */
export function proxyWarning(
  registry: string,
  https: boolean,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const proxy = https
    ? (env["HTTPS_PROXY"] ?? env["https_proxy"])
    : (env["HTTP_PROXY"] ?? env["http_proxy"]);
  if (proxy === undefined || proxy === "" || bypassed(registry, env)) return undefined;
  return (
    `a proxy is set (${https ? "HTTPS_PROXY" : "HTTP_PROXY"}) but banger connects to registry ` +
    `"${registry}" directly: Node 20's fetch does not use proxies`
  );
}

function bypassed(registry: string, env: NodeJS.ProcessEnv): boolean {
  const host = registry.replace(/:\d+$/, "").toLowerCase();
  const list = (env["NO_PROXY"] ?? env["no_proxy"] ?? "").split(",").map((s) => s.trim());
  return list.some((entry) => {
    const suffix = entry.replace(/^\*?\.?/, "").toLowerCase();
    return entry === "*" || (suffix !== "" && (host === suffix || host.endsWith(`.${suffix}`)));
  });
}
