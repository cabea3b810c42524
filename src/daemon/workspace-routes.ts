import type { FastifyInstance } from "fastify";
import { exportWorkspaceRequest, workspaceRequest } from "../api/index.js";
import {
  exportVmWorkspace,
  findVm,
  planWorkspace,
  prepareVmWorkspace,
  type VmContext,
} from "../vm/index.js";
import { parseBody, streamOperation } from "./wire.js";

type RefParams = { Params: { ref: string } };

/** Workspace routes: plan (no VM), prepare (NDJSON progress) and export (patch bytes). */
export function registerWorkspaceRoutes(app: FastifyInstance, ctx: VmContext): void {
  app.post("/v1/workspace/plan", async (req, reply) => {
    const body = parseBody(workspaceRequest, req.body, "workspace");
    await streamOperation(req, reply, ({ report }) => planWorkspace(body, report));
  });

  app.post<RefParams>("/v1/vms/:ref/workspace/prepare", async (req, reply) => {
    const body = parseBody(workspaceRequest, req.body, "workspace");
    const vm = findVm(ctx, req.params.ref);
    await streamOperation(req, reply, ({ report, signal }) =>
      prepareVmWorkspace(ctx, vm, body, { report, signal }),
    );
  });

  app.post<RefParams>("/v1/vms/:ref/workspace/export", async (req, reply) => {
    const body = parseBody(exportWorkspaceRequest, req.body, "workspace");
    const patch = await exportVmWorkspace(ctx, findVm(ctx, req.params.ref), body);
    return reply.type("application/octet-stream").send(patch);
  });
}
