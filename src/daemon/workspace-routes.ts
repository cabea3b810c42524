import type { FastifyInstance } from "fastify";
import { exportWorkspaceRequest, workspaceRequest } from "../api/index.js";
import { BangerError } from "../errors/index.js";
import {
  exportVmWorkspace,
  findVm,
  planWorkspace,
  prepareVmWorkspace,
  type VmContext,
} from "../vm/index.js";
import { streamOperation } from "./wire.js";

type RefParams = { Params: { ref: string } };

function parse<T>(
  schema: {
    safeParse(
      v: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } };
  },
  body: unknown,
): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new BangerError("USAGE", `bad workspace request: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

/** Workspace routes: plan (no VM), prepare (NDJSON progress) and export (patch bytes). */
export function registerWorkspaceRoutes(app: FastifyInstance, ctx: VmContext): void {
  app.post("/v1/workspace/plan", async (req, reply) => {
    const body = parse(workspaceRequest, req.body);
    await streamOperation(req, reply, ({ report }) => planWorkspace(body, report));
  });

  app.post<RefParams>("/v1/vms/:ref/workspace/prepare", async (req, reply) => {
    const body = parse(workspaceRequest, req.body);
    const vm = findVm(ctx, req.params.ref);
    await streamOperation(req, reply, ({ report, signal }) =>
      prepareVmWorkspace(ctx, vm, body, { report, signal }),
    );
  });

  app.post<RefParams>("/v1/vms/:ref/workspace/export", async (req, reply) => {
    const body = parse(exportWorkspaceRequest, req.body);
    const patch = await exportVmWorkspace(ctx, findVm(ctx, req.params.ref), body);
    return reply.type("application/octet-stream").send(patch);
  });
}
