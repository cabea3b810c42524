import type { FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { ErrorBody, ProgressEvent, StreamEnd } from "../api/index.js";
import { BangerError, causeChain, httpStatusFor } from "../errors/index.js";

/** How any thrown value crosses the wire; plain errors become INTERNAL. */
export function errorBody(err: unknown): ErrorBody {
  const causes = causeChain(err).slice(1);
  if (err instanceof BangerError) {
    return {
      code: err.code,
      message: err.message,
      ...(err.hint === undefined ? {} : { hint: err.hint }),
      ...(causes.length ? { causes } : {}),
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: "INTERNAL", message: `internal error: ${message}`, hint: "see the daemon log" };
}

export function statusFor(err: unknown): number {
  return err instanceof BangerError ? httpStatusFor(err.code) : 500;
}

export interface Stream {
  report: (e: ProgressEvent) => void;
  /** Aborted when the client goes away before the end. */
  signal: AbortSignal;
}

/**
 * Answers with an NDJSON stream: progress events as they happen, then one `result` or `error`
 * line. A client that disconnects aborts the operation through `signal`, so nothing it started
 * is left half-built.
 */
export async function streamOperation(
  request: FastifyRequest,
  reply: FastifyReply,
  op: (s: Stream) => Promise<unknown>,
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  const abort = new AbortController();
  let finished = false;
  res.on("close", () => {
    if (!finished) abort.abort();
  });
  const write = (obj: unknown): void => {
    if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(obj) + "\n");
  };
  let end: StreamEnd;
  try {
    end = { type: "result", result: await op({ report: write, signal: abort.signal }) };
  } catch (err) {
    request.log.warn({ err }, "operation failed");
    end = { type: "error", error: errorBody(err) };
  }
  finished = true;
  write(end);
  res.end();
}

/**
 * A request body checked against `schema` (a missing body counts as `{}`); USAGE naming the
 * request and the first problem otherwise, which the CLI turns into exit 2.
 */
export function parseBody<S extends z.ZodType>(
  schema: S,
  body: unknown,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new BangerError("USAGE", `bad ${what} request: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}
