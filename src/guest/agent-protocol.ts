// The guest agent's wire format (agent/README.md): requests the host sends, and zod schemas
// for the replies, which come from inside the guest and are therefore hostile input.
import { z } from "zod";
import { BangerError } from "../errors/index.js";

/** The protocol version this host speaks; the agent refuses any other. */
export const AGENT_PROTOCOL_VERSION = 1;

/** The methods the agent answers. */
export type AgentMethod = "health" | "ports" | "stats" | "poweroff";

const ErrorBody = z.object({ code: z.string().max(64), message: z.string().max(4096) });

const ReplyEnvelope = z.discriminatedUnion("ok", [
  z.object({
    v: z.number(),
    id: z.number().int().nonnegative().nullable(),
    ok: z.literal(true),
    result: z.unknown(),
  }),
  z.object({
    v: z.number(),
    id: z.number().int().nonnegative().nullable(),
    ok: z.literal(false),
    error: ErrorBody,
  }),
]);

/** One reply line, checked for shape but with `result` not yet validated. */
export type AgentReply = z.infer<typeof ReplyEnvelope>;

const Bytes = z.number().int().nonnegative();

export const AgentHealthSchema = z.object({
  protocol: z.number().int(),
  agentVersion: z.string().max(64),
  bootId: z.string().max(64).nullable(),
  uptimeSeconds: z.number().nonnegative().nullable(),
  /** Null when the guest does not run systemd. */
  systemd: z
    .object({
      state: z.string().max(64),
      /** Null when systemctl could not list them. */
      failedUnits: z.array(z.string().max(512)).nullable(),
    })
    .nullable(),
});
export type AgentHealth = z.infer<typeof AgentHealthSchema>;

export const AgentPortSchema = z.object({
  protocol: z.enum(["tcp", "udp"]),
  family: z.enum(["ipv4", "ipv6"]),
  address: z.string().max(64),
  port: z.number().int().min(0).max(65535),
  uid: z.number().int().nonnegative(),
  inode: z.number().int().nonnegative(),
  /** Null when no process could be found holding the socket. */
  pid: z.number().int().positive().nullable(),
  process: z.string().max(256).nullable(),
});
export type AgentPort = z.infer<typeof AgentPortSchema>;

const AgentPortsSchema = z.object({ ports: z.array(AgentPortSchema) });

export const AgentStatsSchema = z.object({
  memory: z.object({ totalBytes: Bytes.nullable(), availableBytes: Bytes.nullable() }),
  /** 1, 5 and 15 minute load averages; null when /proc/loadavg was unreadable. */
  loadAverage: z.tuple([z.number(), z.number(), z.number()]).nullable(),
  cpuCount: z.number().int().positive(),
  /** `/` and `/root`, each only when statvfs succeeded in the guest. */
  filesystems: z.array(
    z.object({
      path: z.string().max(4096),
      totalBytes: Bytes,
      usedBytes: Bytes,
      freeBytes: Bytes,
    }),
  ),
});
export type AgentStats = z.infer<typeof AgentStatsSchema>;

const PoweroffSchema = z.object({});

/** The request line for `method`, newline included. */
export function encodeAgentRequest(id: number, method: AgentMethod): string {
  return `${JSON.stringify({ v: AGENT_PROTOCOL_VERSION, id, method })}\n`;
}

function protocolError(why: string, cause?: unknown): BangerError {
  return new BangerError("AGENT_PROTOCOL", `cannot read the guest agent's reply: ${why}`, {
    hint: "rebuild the image so its agent matches this banger: `banger image list`",
    cause,
  });
}

function versionOf(value: unknown): unknown {
  return typeof value === "object" && value !== null ? (value as { v?: unknown }).v : undefined;
}

/**
 * Parses one reply line (without its newline). Throws only BangerErrors: AGENT_PROTOCOL when the
 * line is not JSON or not a reply, AGENT_VERSION_MISMATCH when it speaks another version.
 * An `ok:false` reply is returned, not thrown: the caller knows which request it answers.
 */
export function parseAgentReply(line: string): AgentReply {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw protocolError(`not JSON: ${JSON.stringify(line.slice(0, 80))}`, err);
  }
  const v = versionOf(value);
  if (typeof v === "number" && v !== AGENT_PROTOCOL_VERSION) {
    throw new BangerError(
      "AGENT_VERSION_MISMATCH",
      `cannot talk to the guest agent: it speaks protocol version ${v}, banger speaks ${AGENT_PROTOCOL_VERSION}`,
      { hint: "rebuild the image so its agent matches this banger: `banger image list`" },
    );
  }
  const parsed = ReplyEnvelope.safeParse(value);
  if (!parsed.success) throw protocolError(`not a reply: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

const resultSchemas = {
  health: AgentHealthSchema,
  ports: AgentPortsSchema,
  stats: AgentStatsSchema,
  poweroff: PoweroffSchema,
} as const;

/** What each method's result parses to. */
export interface AgentResults {
  health: AgentHealth;
  ports: { ports: AgentPort[] };
  stats: AgentStats;
  poweroff: Record<string, never>;
}

/** Validates the `result` of a successful reply to `method`; AGENT_PROTOCOL when it is wrong. */
export function parseAgentResult<M extends AgentMethod>(
  method: M,
  result: unknown,
): AgentResults[M] {
  const parsed = resultSchemas[method].safeParse(result);
  if (!parsed.success) {
    throw protocolError(`bad "${method}" result: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data as AgentResults[M];
}
