// Private: registry credentials from Docker's config file (`auths`, base64 `auth`).
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { z } from "zod";
import { BangerError, isErrno } from "../errors/index.js";
import { DOCKER_HUB } from "./reference.js";

export interface Credentials {
  username: string;
  password: string;
}

const configSchema = z.object({
  auths: z
    .record(
      z.string(),
      z.object({
        auth: z.string().optional(),
        username: z.string().optional(),
        password: z.string().optional(),
      }),
    )
    .optional(),
});

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env["DOCKER_CONFIG"] ?? path.join(homedir(), ".docker");
  return path.join(dir, "config.json");
}

/** The key Docker uses in `auths` for a registry host, without scheme and path. */
function authKeyHost(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, "").split("/")[0] ?? "";
  const lower = host.toLowerCase();
  return lower === "index.docker.io" || lower === "registry-1.docker.io" ? DOCKER_HUB : lower;
}

/**
 * The credentials the config file holds for `registry`, or undefined when it has none or the
 * file does not exist. A file that does not parse fails with CONFIG_INVALID naming it.
 */
export async function findCredentials(
  registry: string,
  configPath: string,
): Promise<Credentials | undefined> {
  let text: string;
  try {
    text = await readFile(configPath, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  const parsed = parseConfig(text, configPath);
  const want = registry.toLowerCase();
  for (const [key, entry] of Object.entries(parsed.auths ?? {})) {
    if (authKeyHost(key) !== want) continue;
    if (entry.auth !== undefined && entry.auth !== "") return decodeAuth(entry.auth, configPath);
    if (entry.username !== undefined && entry.password !== undefined) {
      return { username: entry.username, password: entry.password };
    }
  }
  return undefined;
}

function parseConfig(text: string, configPath: string): z.infer<typeof configSchema> {
  try {
    return configSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new BangerError("CONFIG_INVALID", `cannot read "${configPath}": not a Docker config`, {
      hint: `fix or remove "${configPath}", then run docker login again`,
      cause: err,
    });
  }
}

function decodeAuth(auth: string, configPath: string): Credentials {
  const plain = Buffer.from(auth, "base64").toString("utf8");
  const colon = plain.indexOf(":");
  if (colon <= 0) {
    throw new BangerError(
      "CONFIG_INVALID",
      `cannot read "${configPath}": an "auth" value is not base64 of user:password`,
      { hint: "run docker login again" },
    );
  }
  return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
}
