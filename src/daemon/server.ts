import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import {
  createVmRequest,
  killVmRequest,
  registerImageRequest,
  setVmRequest,
  type BatchItem,
  type DefaultsView,
  type SshPlan,
} from "../api/index.js";
import { BangerError } from "../errors/index.js";
import { sshArgs, waitForSsh } from "../guest/index.js";
import { deleteImage, getImage, listImages, registerImage } from "../image/index.js";
import { getKernel, listKernels } from "../kernel/index.js";
import type { Logger } from "../log/index.js";
import { vmFiles } from "../paths/index.js";
import {
  assertCanDo,
  checkHealth,
  createVm,
  deleteVm,
  findVm,
  imageHasAgent,
  killVm,
  prunable,
  readHandles,
  refreshVm,
  restartVm,
  setVm,
  sshTarget,
  startVm,
  stopVm,
  viewVm,
  vmPorts,
  vmStats,
  type VmContext,
} from "../vm/index.js";
import { errorBody, parseBody, statusFor, streamOperation } from "./wire.js";
import { registerImageRoutes } from "./image-routes.js";
import { registerKernelRoutes } from "./kernel-routes.js";
import { registerWorkspaceRoutes } from "./workspace-routes.js";

export const DAEMON_VERSION = "0.1.0";
const SSH_READY_TIMEOUT_MS = 60_000;

type RefParams = { Params: { ref: string } };

export function buildServer(ctx: VmContext, logger: Logger): FastifyInstance {
  const app = fastify({ loggerInstance: logger as FastifyBaseLogger });

  app.setErrorHandler((err, request, reply) => {
    const wrapped =
      err instanceof BangerError || (err as { validation?: unknown }).validation === undefined
        ? err
        : new BangerError("USAGE", `bad request: ${(err as Error).message}`);
    if (!(wrapped instanceof BangerError)) request.log.error({ err }, "request failed");
    void reply.status(statusFor(wrapped)).send({ error: errorBody(wrapped) });
  });

  app.get("/v1/ping", async () => ({ version: DAEMON_VERSION, pid: process.pid }));

  app.get("/v1/defaults", async (): Promise<DefaultsView> => ({
    ...ctx.config.defaults,
    origins: ctx.config.origins,
  }));

  app.get("/v1/vms", async () => {
    const vms = await Promise.all(ctx.store.listVms().map((vm) => refreshVm(ctx, vm)));
    return Promise.all(vms.map((vm) => viewVm(ctx, vm)));
  });

  app.get<RefParams>("/v1/vms/:ref", async (req) => {
    const vm = await refreshVm(ctx, findVm(ctx, req.params.ref));
    const view = await viewVm(ctx, vm);
    if (vm.state === "running" && (await imageHasAgent(ctx, vm))) {
      try {
        view.agent = { health: await checkHealth(ctx, vm) };
      } catch (err) {
        view.agent = { error: err instanceof Error ? err.message : String(err) };
      }
      const last = ctx.lastHealth.get(vm.id);
      if (last) view.agent = { health: last.health, checkedAt: last.at, ...view.agent };
    }
    return view;
  });

  app.get<RefParams>("/v1/vms/:ref/ports", async (req) =>
    vmPorts(ctx, findVm(ctx, req.params.ref)),
  );
  app.get<RefParams>("/v1/vms/:ref/stats", async (req) =>
    vmStats(ctx, findVm(ctx, req.params.ref)),
  );

  app.post("/v1/vms", async (req, reply) => {
    const body = parseBody(createVmRequest, req.body, "create");
    await streamOperation(req, reply, async ({ report, signal }) => {
      const vm = await createVm(ctx, body, { report, signal });
      return viewVm(ctx, vm);
    });
  });

  for (const action of ["start", "stop", "restart"] as const) {
    app.post<RefParams>(`/v1/vms/:ref/${action}`, async (req, reply) => {
      const vm = findVm(ctx, req.params.ref);
      await streamOperation(req, reply, async ({ report, signal }) => {
        const op = action === "start" ? startVm : action === "stop" ? stopVm : restartVm;
        return viewVm(ctx, await op(ctx, vm, { report, signal }));
      });
    });
  }

  app.post<RefParams>("/v1/vms/:ref/kill", async (req) => {
    const body = killVmRequest.parse(req.body ?? {});
    const vm = findVm(ctx, req.params.ref);
    return viewVm(ctx, await killVm(ctx, vm, body.signal));
  });

  app.post<RefParams>("/v1/vms/:ref/set", async (req) => {
    const body = parseBody(setVmRequest, req.body, "set");
    return viewVm(ctx, await setVm(ctx, findVm(ctx, req.params.ref), body));
  });

  app.delete<RefParams>("/v1/vms/:ref", async (req) => {
    const vm = findVm(ctx, req.params.ref);
    await deleteVm(ctx, vm);
    return { deleted: vm.name };
  });

  app.post("/v1/vms/prune", async (): Promise<BatchItem[]> => {
    const vms = await Promise.all(ctx.store.listVms().map((vm) => refreshVm(ctx, vm)));
    const out: BatchItem[] = [];
    for (const vm of prunable(vms)) {
      try {
        await deleteVm(ctx, vm);
        out.push({ name: vm.name, ok: true });
      } catch (err) {
        out.push({ name: vm.name, ok: false, error: errorBody(err) });
      }
    }
    return out;
  });

  app.get<RefParams & { Querystring: { tty?: string; cmd?: string; cwd?: string } }>(
    "/v1/vms/:ref/ssh",
    async (req): Promise<SshPlan> => {
      const vm = await refreshVm(ctx, findVm(ctx, req.params.ref));
      assertCanDo("ssh", vm.name, vm.state);
      const handles = await readHandles(vmFiles(ctx.paths, vm.id).handles);
      if (!handles) throw new BangerError("VM_INVALID_STATE", `VM "${vm.name}" has no address`);
      // A VM is running once its agent answers; sshd may still be a moment behind.
      await waitForSsh(handles.address, { timeoutMs: SSH_READY_TIMEOUT_MS });
      const argv0 = req.query.cmd === undefined ? undefined : parseArgv(req.query.cmd);
      const command = req.query.cwd === undefined ? argv0 : inDirectory(req.query.cwd, argv0);
      const argv = sshArgs(sshTarget(ctx, vm, handles.address), {
        tty: req.query.tty === "1",
        ...(command ? { command } : {}),
      });
      return { argv, vm: await viewVm(ctx, vm) };
    },
  );

  app.get<RefParams & { Querystring: { follow?: string } }>(
    "/v1/vms/:ref/logs",
    async (req, reply) => {
      const vm = findVm(ctx, req.params.ref);
      const file = vmFiles(ctx.paths, vm.id).consoleLog;
      await followFile(file, req.query.follow === "1", reply.raw, () => reply.hijack());
    },
  );

  registerWorkspaceRoutes(app, ctx);
  registerImageRoutes(app, ctx);
  registerKernelRoutes(app, ctx);

  app.get("/v1/images", async () => listImages(ctx.paths));
  app.get<{ Params: { name: string } }>("/v1/images/:name", async (req) =>
    getImage(ctx.paths, req.params.name),
  );
  app.post("/v1/images", async (req) => {
    const body = parseBody(registerImageRequest, req.body, "register");
    if (body.kernel !== undefined) await getKernel(ctx.paths, body.kernel);
    return registerImage(ctx.paths, {
      name: body.name,
      rootfs: body.rootfs,
      ...(body.kernel === undefined ? {} : { kernel: body.kernel }),
    });
  });
  app.delete<{ Params: { name: string } }>("/v1/images/:name", async (req) => {
    const usedBy = ctx.store
      .listVms()
      .filter((vm) => vm.image === req.params.name)
      .map((vm) => vm.name);
    await deleteImage(ctx.paths, req.params.name, usedBy);
    return { deleted: req.params.name };
  });
  app.get("/v1/kernels", async () => listKernels(ctx.paths));

  return app;
}

/**
 * Wraps a guest command (or a login shell) so it starts in `dir`. The directory and the words
 * travel as positional parameters, never spliced into the script.
 */
function inDirectory(dir: string, command: string[] | undefined): string[] {
  if (command === undefined || command.length === 0) {
    return ["sh", "-c", 'cd -- "$1" && exec "${SHELL:-/bin/sh}" -l', "sh", dir];
  }
  return ["sh", "-c", 'cd -- "$1" && shift && exec "$@"', "sh", dir, ...command];
}

function parseArgv(json: string): string[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new BangerError("USAGE", "bad ssh request: cmd must be a JSON array of strings");
  }
  return value;
}

/** Streams a file; with `follow`, keeps sending what is appended until the client leaves. */
async function followFile(
  file: string,
  follow: boolean,
  res: import("node:http").ServerResponse,
  hijack: () => void,
): Promise<void> {
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  hijack();
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  let offset = 0;
  const pump = async (until: number): Promise<void> => {
    if (until <= offset) return;
    await new Promise<void>((resolve, reject) => {
      const rs = createReadStream(file, { start: offset, end: until - 1 });
      rs.on("data", (chunk) => res.write(chunk));
      rs.on("end", resolve);
      rs.on("error", reject);
    });
    offset = until;
  };
  await pump(size);
  if (!follow) {
    res.end();
    return;
  }
  let closed = false;
  res.on("close", () => {
    closed = true;
  });
  while (!closed) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await stat(file).then(
      (s) => s.size,
      () => 0,
    );
    if (now < offset) offset = 0; // the console was reset by a new boot
    await pump(now);
  }
}
