// The one error type banger raises on purpose, its stable codes, and how each code maps to an
// HTTP status (daemon) and an exit code (CLI). Programmer errors stay plain `Error`.

/** Every code is part of the API and listed in docs/errors.md. */
export const ERROR_CODES = {
  USAGE: { http: 400, exit: 2 },
  INVALID_NAME: { http: 400, exit: 2 },
  INVALID_SIZE: { http: 400, exit: 2 },
  INVALID_ARGUMENT: { http: 400, exit: 2 },
  CONFIG_INVALID: { http: 500, exit: 3 },
  DAEMON_UNREACHABLE: { http: 503, exit: 4 },
  VM_NOT_FOUND: { http: 404, exit: 1 },
  VM_NAME_TAKEN: { http: 409, exit: 1 },
  VM_INVALID_STATE: { http: 409, exit: 1 },
  VM_BOOT_TIMEOUT: { http: 504, exit: 1 },
  VM_START_FAILED: { http: 500, exit: 1 },
  VM_SSH_UNAVAILABLE: { http: 502, exit: 1 },
  IMAGE_NOT_FOUND: { http: 404, exit: 1 },
  IMAGE_BUILD_FAILED: { http: 500, exit: 1 },
  IMAGE_IN_USE: { http: 409, exit: 1 },
  IMAGE_EXISTS: { http: 409, exit: 1 },
  KERNEL_NOT_FOUND: { http: 404, exit: 1 },
  KERNEL_FETCH_FAILED: { http: 502, exit: 1 },
  KERNEL_CHECKSUM_MISMATCH: { http: 502, exit: 1 },
  INITRD_BUILD_FAILED: { http: 500, exit: 1 },
  HOST_MISSING_TOOL: { http: 500, exit: 1 },
  NETWORK_SETUP_FAILED: { http: 500, exit: 1 },
  ADDRESS_POOL_EXHAUSTED: { http: 503, exit: 1 },
  DISK_SETUP_FAILED: { http: 500, exit: 1 },
  NO_SPACE: { http: 507, exit: 1 },
  VMM_FAILED: { http: 500, exit: 1 },
  SUBPROCESS_FAILED: { http: 500, exit: 1 },
  STORE_FAILED: { http: 500, exit: 1 },
  INTERRUPTED: { http: 499, exit: 130 },
  INTERNAL: { http: 500, exit: 1 },
  DNS_PORT_IN_USE: { http: 409, exit: 1 },
  AGENT_UNAVAILABLE: { http: 503, exit: 1 },
  AGENT_TIMEOUT: { http: 504, exit: 1 },
  AGENT_PROTOCOL: { http: 502, exit: 1 },
  AGENT_VERSION_MISMATCH: { http: 502, exit: 1 },
  AGENT_REQUEST_FAILED: { http: 502, exit: 1 },
  VM_HOST_KEY_MISMATCH: { http: 502, exit: 1 },
  IMAGE_DIGEST_MISMATCH: { http: 502, exit: 1 },
  IMAGE_UNSUPPORTED: { http: 422, exit: 1 },
  IMAGE_LAYER_UNSAFE: { http: 422, exit: 1 },
  REGISTRY_UNREACHABLE: { http: 502, exit: 1 },
  REGISTRY_UNAUTHORIZED: { http: 403, exit: 1 },
  REGISTRY_NOT_FOUND: { http: 404, exit: 1 },
  REGISTRY_FAILED: { http: 502, exit: 1 },
  WORKSPACE_FAILED: { http: 500, exit: 1 },
  KERNEL_IN_USE: { http: 409, exit: 1 },
  KERNEL_EXISTS: { http: 409, exit: 1 },
} as const satisfies Record<string, { http: number; exit: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface BangerErrorOptions {
  /** The exact next command or step for the user. */
  hint?: string;
  cause?: unknown;
}

/**
 * A failure the user should see: `message` says what failed and why, with quoted values;
 * `hint` gives the next command. Wrap at each boundary with `{ cause }`.
 */
export class BangerError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: BangerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BangerError";
    this.code = code;
    this.hint = options.hint;
  }
}

/** True when `err` is a BangerError, optionally with the given code. */
export function isBangerError(err: unknown, code?: ErrorCode): err is BangerError {
  return err instanceof BangerError && (code === undefined || err.code === code);
}

/** True when `err` is a Node system error with the given errno code (for example `ENOENT`). */
export function isErrno(err: unknown, code: string): err is NodeJS.ErrnoException {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

export function httpStatusFor(code: ErrorCode): number {
  return ERROR_CODES[code].http;
}

export function exitCodeFor(code: ErrorCode): number {
  return ERROR_CODES[code].exit;
}

/** The messages of `err` and its causes, outermost first, without repeats. */
export function causeChain(err: unknown): string[] {
  const out: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    const msg = cur instanceof Error ? cur.message : String(cur);
    if (!out.includes(msg)) out.push(msg);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return out;
}
