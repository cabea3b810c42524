import path from "node:path";
import type { Command } from "commander";
import type { ImageView } from "../api/index.js";
import { callJson } from "../client/index.js";
import { registerKernelCommands } from "./kernel-commands.js";
import { ago, table } from "./output.js";
import { registerPullCommand } from "./pull-command.js";
import type { CliEnv } from "./vm-commands.js";

async function socket(env: CliEnv): Promise<string> {
  await env.connect();
  return env.paths.socketPath;
}

function size(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)}G` : `${Math.round(bytes / 2 ** 20)}M`;
}

export function registerImageCommands(program: Command, env: CliEnv): void {
  const image = program.command("image").description("manage root filesystem images");
  image
    .command("list")
    .alias("ls")
    .description("list images")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      const images = await callJson<ImageView[]>(await socket(env), "GET", "/v1/images");
      if (flags.json) {
        process.stdout.write(JSON.stringify(images, null, 2) + "\n");
        return;
      }
      const rows = images.map((i) => [
        i.name,
        // A pulled image's full digest is in `image show`; 12 hex digits tell tags apart here.
        i.source.replace(/@sha256:([0-9a-f]{12})[0-9a-f]{52}$/, "@sha256:$1"),
        size(i.sizeBytes),
        i.kernel ?? "-",
        i.agent ? "yes" : "no",
        ago(i.createdAt),
      ]);
      process.stdout.write(table(["NAME", "SOURCE", "SIZE", "KERNEL", "AGENT", "CREATED"], rows));
    });

  image
    .command("show <image>")
    .description("show one image as JSON")
    .action(async (name: string) => {
      const i = await callJson<ImageView>(
        await socket(env),
        "GET",
        `/v1/images/${encodeURIComponent(name)}`,
      );
      process.stdout.write(JSON.stringify(i, null, 2) + "\n");
    });

  registerPullCommand(image, env);

  image
    .command("register")
    .description("register a host ext4 file as an image, used in place (not copied)")
    .requiredOption("--name <name>", "image name")
    .requiredOption("--rootfs <file>", "raw ext4 root filesystem")
    .option("--kernel-ref <kernel>", "kernel to boot it with (see `banger kernel list`)")
    .action(async (flags: { name: string; rootfs: string; kernelRef?: string }) => {
      const body = {
        name: flags.name,
        rootfs: path.resolve(flags.rootfs),
        ...(flags.kernelRef === undefined ? {} : { kernel: flags.kernelRef }),
      };
      const i = await callJson<ImageView>(await socket(env), "POST", "/v1/images", body);
      process.stdout.write(
        `${i.name}${i.agent ? "" : " (no guest agent: vm ports and vm stats will not work)"}\n`,
      );
    });

  image
    .command("cache")
    .description("the downloaded layer cache")
    .command("prune")
    .description("delete cached registry blobs (images already pulled keep working)")
    .option("--dry-run", "only say how much would be freed")
    .action(async (flags: { dryRun?: boolean }) => {
      const r = await callJson<{ freedBytes: number; removedFiles: number }>(
        await socket(env),
        "POST",
        "/v1/images/cache/prune",
        { dryRun: flags.dryRun === true },
      );
      const verb = flags.dryRun ? "would free" : "freed";
      process.stdout.write(`${verb} ${size(r.freedBytes)} in ${r.removedFiles} files\n`);
    });

  image
    .command("delete <image>")
    .alias("rm")
    .description("delete an image (refused while VMs use it)")
    .action(async (name: string) => {
      await callJson(await socket(env), "DELETE", `/v1/images/${encodeURIComponent(name)}`);
      process.stdout.write(`${name}: deleted\n`);
    });

  registerKernelCommands(program, env);
}
