import type { FastifyInstance } from "fastify";
import { importKernelRequest } from "../api/index.js";
import { listImages } from "../image/index.js";
import {
  ensureKernel,
  getKernel,
  importKernel,
  KERNEL_CATALOG,
  listKernels,
  removeKernel,
} from "../kernel/index.js";
import type { VmContext } from "../vm/index.js";
import { parseBody, streamOperation } from "./wire.js";

type NameParams = { Params: { name: string } };

/** Kernel routes besides the plain list: the catalog, show, pull, import and remove. */
export function registerKernelRoutes(app: FastifyInstance, ctx: VmContext): void {
  app.get("/v1/kernels/available", async () => {
    const stored = new Set((await listKernels(ctx.paths)).map((k) => k.name));
    return Object.entries(KERNEL_CATALOG).map(([name, entry]) => ({
      name,
      suite: entry.suite,
      pulled: stored.has(name),
    }));
  });

  app.get<NameParams>("/v1/kernels/:name", async (req) => getKernel(ctx.paths, req.params.name));

  app.post<NameParams>("/v1/kernels/:name/pull", async (req, reply) => {
    const name = req.params.name;
    await streamOperation(req, reply, ({ report, signal }) =>
      ensureKernel({ paths: ctx.paths, name, mirror: ctx.config.mirror, report, signal }),
    );
  });

  app.post("/v1/kernels/import", async (req, reply) => {
    const { name, kernel, initrd, modules } = parseBody(importKernelRequest, req.body, "import");
    await streamOperation(req, reply, ({ report }) =>
      importKernel({
        paths: ctx.paths,
        name,
        kernelPath: kernel,
        report,
        ...(initrd === undefined ? {} : { initrdPath: initrd }),
        ...(modules === undefined ? {} : { modulesDir: modules }),
      }),
    );
  });

  app.delete<NameParams>("/v1/kernels/:name", async (req) => {
    const name = req.params.name;
    await removeKernel(ctx.paths, name, await kernelUsers(ctx, name));
    return { deleted: name };
  });
}

/** Images whose manifest names the kernel, and VMs recorded with it. */
async function kernelUsers(ctx: VmContext, name: string): Promise<string[]> {
  const images = (await listImages(ctx.paths)).filter((i) => i.kernel === name);
  const vms = ctx.store.listVms().filter((vm) => vm.kernel === name);
  return [...images.map((i) => `image "${i.name}"`), ...vms.map((vm) => `VM "${vm.name}"`)];
}
