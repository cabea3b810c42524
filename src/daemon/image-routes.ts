import type { FastifyInstance } from "fastify";
import { pullImageRequest } from "../api/index.js";
import { LIMITS, mibToBytes, parseSizeMib } from "../config/index.js";
import { pruneImageCache, pullImage } from "../image/index.js";
import { getKernel } from "../kernel/index.js";
import type { VmContext } from "../vm/index.js";
import { parseBody, streamOperation } from "./wire.js";

/** POST /v1/images/pull: an OCI image into the store, streamed as NDJSON progress. */
export function registerImageRoutes(app: FastifyInstance, ctx: VmContext): void {
  app.post<{ Body: { dryRun?: boolean } }>("/v1/images/cache/prune", async (req) =>
    pruneImageCache(ctx.paths, req.body?.dryRun === true),
  );

  app.post("/v1/images/pull", async (req, reply) => {
    const body = parseBody(pullImageRequest, req.body, "pull");
    const sizeBytes =
      body.size === undefined
        ? undefined
        : mibToBytes(parseSizeMib(body.size, "--size", LIMITS.diskSize));
    if (body.kernel !== undefined) await getKernel(ctx.paths, body.kernel);
    await streamOperation(req, reply, ({ report, signal }) =>
      pullImage({
        paths: ctx.paths,
        ref: body.ref,
        report,
        signal,
        ...(body.name === undefined ? {} : { name: body.name }),
        ...(body.insecure === true ? { insecure: true } : {}),
        ...(sizeBytes === undefined ? {} : { sizeBytes }),
        ...(body.kernel === undefined ? {} : { kernel: body.kernel }),
      }),
    );
  });
}
