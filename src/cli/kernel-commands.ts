import path from "node:path";
import type { Command } from "commander";
import type { KernelView } from "../api/index.js";
import { callJson, callStream } from "../client/index.js";
import { ago, table } from "./output.js";
import { outputMode, progressRenderer } from "./render.js";
import type { CliEnv } from "./vm-commands.js";

interface AvailableKernel {
  name: string;
  suite: string;
  pulled: boolean;
}

function kernelPath(name: string, suffix = ""): string {
  return `/v1/kernels/${encodeURIComponent(name)}${suffix}`;
}

async function socket(env: CliEnv): Promise<string> {
  await env.connect();
  return env.paths.socketPath;
}

function print(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write(json === true ? JSON.stringify(value, null, 2) + "\n" : text);
}

/** `banger kernel list|pull|import|show|rm`. */
export function registerKernelCommands(program: Command, env: CliEnv): void {
  const kernel = program.command("kernel").description("manage guest kernels");
  kernel
    .command("list")
    .alias("ls")
    .description("list stored kernels; with --available, the ones banger can pull")
    .option("--available", "list the catalog, marking what is pulled")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean; available?: boolean }) => {
      if (flags.available === true) {
        const all = await callJson<AvailableKernel[]>(
          await socket(env),
          "GET",
          "/v1/kernels/available",
        );
        const rows = all.map((k) => [k.name, k.suite, k.pulled ? "yes" : "no"]);
        print(flags.json, all, table(["NAME", "SUITE", "PULLED"], rows));
        return;
      }
      const kernels = await callJson<KernelView[]>(await socket(env), "GET", "/v1/kernels");
      const rows = kernels.map((k) => [k.name, k.version, ago(k.createdAt)]);
      print(flags.json, kernels, table(["NAME", "VERSION", "CREATED"], rows));
    });

  kernel
    .command("pull <name>")
    .description("fetch a kernel from the Debian archive (see `banger kernel list --available`)")
    .option("--json", "print progress and the result as JSON lines")
    .action(async (name: string, flags: { json?: boolean }) => {
      const render = progressRenderer(outputMode(flags.json === true));
      const k = await callStream<KernelView>(
        await socket(env),
        "POST",
        kernelPath(name, "/pull"),
        {},
        render,
      );
      print(flags.json, k, `${k.name}: ${k.version}\n`);
    });

  kernel
    .command("import <name>")
    .description("store a host kernel, with banger's initramfs built from its modules")
    .requiredOption("--kernel <file>", "the kernel image (bzImage), e.g. /boot/vmlinuz-…")
    .option("--modules <dir>", "its modules, /lib/modules/<release>: banger builds the initramfs")
    .option("--initrd <file>", "a banger-compatible initramfs, used as is (instead of --modules)")
    .option("--json", "print progress and the result as JSON lines")
    .action(
      async (
        name: string,
        flags: { kernel: string; modules?: string; initrd?: string; json?: boolean },
      ) => {
        const body = {
          name,
          kernel: path.resolve(flags.kernel),
          ...(flags.modules === undefined ? {} : { modules: path.resolve(flags.modules) }),
          ...(flags.initrd === undefined ? {} : { initrd: path.resolve(flags.initrd) }),
        };
        const render = progressRenderer(outputMode(flags.json === true));
        const k = await callStream<KernelView>(
          await socket(env),
          "POST",
          "/v1/kernels/import",
          body,
          render,
        );
        print(flags.json, k, `${k.name}: ${k.version}\n`);
      },
    );

  kernel
    .command("show <name>")
    .description("show one stored kernel as JSON")
    .action(async (name: string) => {
      const k = await callJson<KernelView>(await socket(env), "GET", kernelPath(name));
      print(true, k, "");
    });

  kernel
    .command("rm <name>")
    .alias("delete")
    .description("remove a stored kernel (refused while images or VMs use it)")
    .action(async (name: string) => {
      await callJson(await socket(env), "DELETE", kernelPath(name));
      process.stdout.write(`${name}: removed\n`);
    });
}
