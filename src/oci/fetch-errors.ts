// Private: what a failed fetch means for the user, in words that name the registry.
import { BangerError } from "../errors/index.js";

/** The errno-like code undici puts on the cause of a failed fetch. */
function causeCode(err: unknown): string {
  let cur: unknown = err;
  for (let depth = 0; cur instanceof Error && depth < 4; depth++) {
    const code = (cur as NodeJS.ErrnoException).code;
    if (typeof code === "string") return code;
    cur = cur.cause;
  }
  return "";
}

function causeMessage(err: unknown): string {
  let cur: unknown = err;
  let msg = "";
  for (let depth = 0; cur instanceof Error && depth < 4; depth++) {
    msg = cur.message;
    cur = cur.cause;
  }
  return msg;
}

const TLS_CODE = /^(CERT_|ERR_TLS|ERR_SSL|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|EPROTO)/;

/** Connection resets are worth another try; unknown hosts and TLS failures are not. */
export function isTransient(err: unknown): boolean {
  const code = causeCode(err);
  return code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE";
}

/** REGISTRY_UNREACHABLE naming the registry, with the reason in plain words. */
export function unreachable(registry: string, err: unknown, timedOutMs?: number): BangerError {
  const code = causeCode(err);
  let why: string;
  let hint = `check the name and that the registry answers: curl -v https://${registry}/v2/`;
  if (timedOutMs !== undefined) why = `no answer within ${timedOutMs} ms`;
  else if (code === "ENOTFOUND" || code === "EAI_AGAIN") why = "unknown host";
  else if (code === "ECONNREFUSED") why = "connection refused";
  else if (TLS_CODE.test(code)) {
    why = `TLS failed (${code}: ${causeMessage(err)})`;
    hint = "for a plain-HTTP or self-signed registry, pull with insecure: true";
  } else why = `${code === "" ? "" : `${code}: `}${causeMessage(err)}`;
  return new BangerError("REGISTRY_UNREACHABLE", `cannot reach registry "${registry}": ${why}`, {
    hint,
    cause: err,
  });
}
