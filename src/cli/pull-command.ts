import type { Command } from "commander";
import type { ImageView } from "../api/index.js";
import { callStream } from "../client/index.js";
import { outputMode, progressRenderer } from "./render.js";
import type { CliEnv } from "./vm-commands.js";

interface PullFlags {
  name?: string;
  insecure?: boolean;
  size?: string;
  kernelRef?: string;
  json?: boolean;
}

/** `banger image pull <ref>`: streams the daemon's progress, prints the image name. */
export function registerPullCommand(image: Command, env: CliEnv): void {
  image
    .command("pull <ref>")
    .description("pull an OCI image from a registry (e.g. debian:bookworm) into an image")
    .option("--name <name>", "image name (default: from the reference, e.g. debian-bookworm)")
    .option("--insecure", "use plain HTTP to the registry (loopback registries always do)")
    .option("--size <size>", "size of the root filesystem, e.g. 4G (default: 1.5x the content)")
    .option("--kernel-ref <kernel>", "kernel to boot it with (see `banger kernel list`)")
    .option("--json", "print progress and the result as JSON lines")
    .action(async (ref: string, flags: PullFlags) => {
      await env.connect();
      const body = {
        ref,
        ...(flags.name === undefined ? {} : { name: flags.name }),
        ...(flags.insecure === true ? { insecure: true } : {}),
        ...(flags.size === undefined ? {} : { size: flags.size }),
        ...(flags.kernelRef === undefined ? {} : { kernel: flags.kernelRef }),
      };
      const render = progressRenderer(outputMode(flags.json === true));
      const view = await callStream<ImageView>(
        env.paths.socketPath,
        "POST",
        "/v1/images/pull",
        body,
        render,
      );
      if (flags.json) process.stdout.write(JSON.stringify(view) + "\n");
      else process.stdout.write(`${view.name}\n`);
    });
}
