import { readFile } from "node:fs/promises";
import os from "node:os";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import { BangerError, isErrno } from "../errors/index.js";
import { formatMib, parseDurationMs, parseSizeMib } from "./size.js";

/** Hard limits on what a VM may ask for; errors name them. */
export const LIMITS = {
  vcpus: { min: 1, max: 64 },
  memory: { minMib: 128, maxMib: 256 * 1024 },
  diskSize: { minMib: 64, maxMib: 2 * 1024 * 1024 },
} as const;

const sizeField = z.union([z.string(), z.number()]);

const fileSchema = z
  .object({
    vmm: z.enum(["auto", "qemu", "firecracker"]).optional(),
    accel: z.enum(["auto", "kvm", "tcg"]).optional(),
    mirror: z.string().url().optional(),
    boot_timeout: sizeField.optional(),
    defaults: z
      .object({
        vcpus: z.number().int().optional(),
        memory: sizeField.optional(),
        disk_size: sizeField.optional(),
        image: z.string().optional(),
        kernel: z.string().optional(),
      })
      .strict()
      .optional(),
    network: z
      .object({
        bridge: z
          .string()
          .regex(/^[a-zA-Z0-9_.-]{1,15}$/)
          .optional(),
        cidr: z.string().optional(),
      })
      .strict()
      .optional(),
    dns: z
      .object({
        port: z.number().int().min(1).max(65535).optional(),
        upstreams: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export interface VmDefaults {
  vcpus: number;
  memoryMib: number;
  diskSizeMib: number;
  image: string;
  kernel: string;
}

export interface Config {
  vmm: "auto" | "qemu" | "firecracker";
  accel: "auto" | "kvm" | "tcg";
  mirror: string;
  /** How long a boot may take until SSH answers; TCG needs far longer than KVM. */
  bootTimeoutMs: number | undefined;
  defaults: VmDefaults;
  network: { bridge: string; cidr: string };
  /**
   * `.vm` DNS: the loopback port (default 42069), and the resolvers names outside `.vm` are
   * forwarded to from the bridge listener (undefined: read from the host's resolv.conf).
   */
  dns: { port: number; upstreams: string[] | undefined };
  /** Where each default came from, for `--help`: "config", "host" or "built-in". */
  origins: Record<keyof VmDefaults, "config" | "host" | "built-in">;
}

export interface HostFacts {
  cpus: number;
  memoryMib: number;
}

export function hostFacts(): HostFacts {
  return { cpus: os.availableParallelism(), memoryMib: Math.floor(os.totalmem() / 1024 / 1024) };
}

/** A quarter of the CPUs up to 4; an eighth of the memory up to 8 GiB (at least 512 MiB). */
export function hostDefaults(host: HostFacts): { vcpus: number; memoryMib: number } {
  const vcpus = Math.min(4, Math.max(1, Math.floor(host.cpus / 4)));
  const eighth = Math.floor(host.memoryMib / 8 / 128) * 128;
  return { vcpus, memoryMib: Math.min(8192, Math.max(512, eighth)) };
}

/**
 * Reads the config file (TOML). A missing file means built-in and host defaults; a file that
 * does not parse or has unknown keys throws CONFIG_INVALID naming the file and the key.
 */
export async function loadConfig(
  configPath: string,
  host: HostFacts = hostFacts(),
): Promise<Config> {
  let text = "";
  try {
    text = await readFile(configPath, "utf8");
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
  return parseConfig(text, configPath, host);
}

export function parseConfig(text: string, configPath: string, host: HostFacts): Config {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    throw new BangerError("CONFIG_INVALID", `cannot read config "${configPath}": not valid TOML`, {
      cause: err,
      hint: `fix or remove ${configPath}`,
    });
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") || "(top level)";
    throw new BangerError(
      "CONFIG_INVALID",
      `invalid config "${configPath}": ${where}: ${issue?.message ?? "invalid"}`,
      { hint: `fix ${where} in ${configPath}` },
    );
  }
  return resolveConfig(parsed.data, configPath, host);
}

function resolveConfig(
  file: z.infer<typeof fileSchema>,
  configPath: string,
  host: HostFacts,
): Config {
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof BangerError) {
        throw new BangerError("CONFIG_INVALID", `invalid config "${configPath}": ${err.message}`, {
          hint: `fix it in ${configPath}`,
        });
      }
      throw err;
    }
  };
  const fromHost = hostDefaults(host);
  const d = file.defaults ?? {};
  const vcpus = d.vcpus ?? fromHost.vcpus;
  if (vcpus < LIMITS.vcpus.min || vcpus > LIMITS.vcpus.max) {
    throw new BangerError(
      "CONFIG_INVALID",
      `invalid config "${configPath}": defaults.vcpus ${vcpus} is out of range`,
    );
  }
  const defaults: VmDefaults = {
    vcpus,
    memoryMib:
      d.memory === undefined
        ? fromHost.memoryMib
        : wrap(() => parseSizeMib(d.memory!, "defaults.memory", LIMITS.memory)),
    diskSizeMib:
      d.disk_size === undefined
        ? 8192
        : wrap(() => parseSizeMib(d.disk_size!, "defaults.disk_size", LIMITS.diskSize)),
    image: d.image ?? "debian-bookworm",
    kernel: d.kernel ?? "debian-bookworm-cloud",
  };
  return {
    vmm: file.vmm ?? "auto",
    accel: file.accel ?? "auto",
    mirror: file.mirror ?? "http://deb.debian.org/debian",
    bootTimeoutMs:
      file.boot_timeout === undefined
        ? undefined
        : wrap(() => parseDurationMs(file.boot_timeout!, "boot_timeout")),
    defaults,
    network: {
      bridge: file.network?.bridge ?? "banger0",
      cidr: file.network?.cidr ?? "172.16.0.1/24",
    },
    dns: { port: file.dns?.port ?? 42069, upstreams: file.dns?.upstreams },
    origins: {
      vcpus: d.vcpus !== undefined ? "config" : "host",
      memoryMib: d.memory !== undefined ? "config" : "host",
      diskSizeMib: d.disk_size !== undefined ? "config" : "built-in",
      image: d.image !== undefined ? "config" : "built-in",
      kernel: d.kernel !== undefined ? "config" : "built-in",
    },
  };
}

export { formatMib };
