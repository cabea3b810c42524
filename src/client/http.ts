import { request as httpRequest, type IncomingMessage } from "node:http";
import type { ErrorBody, ProgressEvent, StreamEnd } from "../api/index.js";
import { BangerError, ERROR_CODES, type ErrorCode } from "../errors/index.js";

/** The API path of a VM (by name or id), with `rest` appended: `/v1/vms/<name><rest>`. */
export function vmPath(name: string, rest = ""): string {
  return `/v1/vms/${encodeURIComponent(name)}${rest}`;
}

/** Rebuilds the daemon's error as a BangerError, keeping code, hint and causes. */
export function fromErrorBody(body: ErrorBody): BangerError {
  const code = (body.code in ERROR_CODES ? body.code : "INTERNAL") as ErrorCode;
  const causes = body.causes ?? [];
  let cause: Error | undefined;
  for (const msg of [...causes].reverse()) cause = new Error(msg, cause ? { cause } : undefined);
  return new BangerError(code, body.message, {
    ...(body.hint === undefined ? {} : { hint: body.hint }),
    ...(cause ? { cause } : {}),
  });
}

function unreachable(socketPath: string, cause: unknown): BangerError {
  return new BangerError("DAEMON_UNREACHABLE", `cannot reach bangerd at "${socketPath}"`, {
    cause,
    hint: "run `banger doctor`, or start it by hand with: bangerd",
  });
}

function open(
  socketPath: string,
  method: string,
  path: string,
  body: unknown,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      {
        socketPath,
        method,
        path,
        headers: payload === undefined ? {} : { "content-type": "application/json" },
      },
      resolve,
    );
    req.on("error", (err) => reject(unreachable(socketPath, err)));
    req.end(payload);
  });
}

/** The error an error reply carries, rebuilt; INTERNAL when the body is not banger's. */
async function replyError(res: IncomingMessage): Promise<BangerError> {
  const text = await readAll(res);
  let error: ErrorBody | undefined;
  try {
    error = (JSON.parse(text) as { error?: ErrorBody }).error;
  } catch {
    error = undefined;
  }
  return error
    ? fromErrorBody(error)
    : new BangerError("INTERNAL", `bangerd answered ${res.statusCode}`);
}

async function readAll(res: IncomingMessage): Promise<string> {
  res.setEncoding("utf8");
  let text = "";
  for await (const chunk of res) text += chunk as string;
  return text;
}

/** A JSON request; the daemon's error replies are thrown as BangerErrors. */
export async function callJson<T>(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await open(socketPath, method, path, body);
  const text = await readAll(res);
  let parsed: unknown;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch (err) {
    throw new BangerError("INTERNAL", `bangerd sent a reply that is not JSON`, { cause: err });
  }
  if ((res.statusCode ?? 500) >= 400) {
    const error = (parsed as { error?: ErrorBody } | undefined)?.error;
    throw error
      ? fromErrorBody(error)
      : new BangerError("INTERNAL", `bangerd answered ${res.statusCode} to ${method} ${path}`);
  }
  return parsed as T;
}

/**
 * An NDJSON operation: each progress event goes to `onEvent`; resolves with the final result
 * or throws the final error.
 */
export async function callStream<T>(
  socketPath: string,
  method: string,
  path: string,
  body: unknown,
  onEvent: (e: ProgressEvent) => void,
): Promise<T> {
  const res = await open(socketPath, method, path, body);
  if ((res.statusCode ?? 500) >= 400) throw await replyError(res);
  res.setEncoding("utf8");
  let buffer = "";
  let end: StreamEnd | undefined;
  for await (const chunk of res) {
    buffer += chunk as string;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() === "") continue;
      const msg = JSON.parse(line) as ProgressEvent | StreamEnd;
      if (msg.type === "result" || msg.type === "error") end = msg;
      else onEvent(msg);
    }
  }
  if (!end)
    throw new BangerError(
      "DAEMON_UNREACHABLE",
      `bangerd closed the stream of ${method} ${path} early`,
      {
        hint: "see the daemon log, then retry",
      },
    );
  if (end.type === "error") throw fromErrorBody(end.error);
  return end.result as T;
}

/** Opens a plain-text stream (logs). */
export async function callText(
  socketPath: string,
  path: string,
  method = "GET",
  body?: unknown,
): Promise<IncomingMessage> {
  const res = await open(socketPath, method, path, body);
  if ((res.statusCode ?? 500) >= 400) throw await replyError(res);
  return res;
}
