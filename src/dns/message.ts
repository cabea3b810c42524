// Private: turns received bytes into one question or a refusal, and builds replies. Every byte
// received is hostile: nothing here throws, and no reply is larger than a bare header unless
// the query decoded cleanly with exactly one question.
import dnsPacket from "dns-packet";
import type { Answer, DecodedPacket, Question } from "dns-packet";

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;
export type Rcode = (typeof RCODE)[keyof typeof RCODE];

const HEADER_BYTES = 12;
/** Larger than any honest query (a 255-byte name plus EDNS options); bigger ones are FORMERR. */
export const MAX_QUERY_BYTES = 4096;
const QR_BIT = 0x8000;
const OPCODE_MASK = 0x7800;
const OPCODE_QUERY = 0;

export type ParsedQuery =
  | { kind: "query"; packet: DecodedPacket; question: Question }
  | { kind: "reply"; reply: Buffer }
  | { kind: "drop" };

/**
 * Classifies one received message. Responses (QR=1) and messages without a whole header are
 * dropped: answering them could feed a loop between two servers or reflect spoofed traffic.
 */
export function parseQuery(buf: Buffer): ParsedQuery {
  if (buf.length < HEADER_BYTES) return { kind: "drop" };
  // The fixed header is read by hand only to answer messages the decoder rejects.
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if ((flags & QR_BIT) !== 0) return { kind: "drop" };

  const refuse = (rcode: Rcode): ParsedQuery => ({
    kind: "reply",
    reply: headerOnlyReply(id, flags, rcode),
  });
  if ((flags & OPCODE_MASK) >> 11 !== OPCODE_QUERY) return refuse(RCODE.NOTIMP);
  if (buf.length > MAX_QUERY_BYTES) return refuse(RCODE.FORMERR);
  if (buf.readUInt16BE(4) !== 1) return refuse(RCODE.FORMERR);

  const packet = decodeWhole(buf);
  const question = packet?.questions?.[0];
  if (packet === undefined || question === undefined || !reencodable(question.name)) {
    return refuse(RCODE.FORMERR);
  }
  return { kind: "query", packet, question };
}

// Labels with bytes that are not UTF-8 grow when decoded to text; echoing them would build an
// invalid reply larger than the query.
function reencodable(name: string): boolean {
  if (Buffer.byteLength(name) > 253) return false;
  return name.split(".").every((label) => Buffer.byteLength(label) <= 63);
}

function decodeWhole(buf: Buffer): DecodedPacket | undefined {
  try {
    const packet = dnsPacket.decode(buf);
    // Trailing bytes mean the sender and we disagree on the format: refuse rather than guess.
    return dnsPacket.decode.bytes === buf.length ? packet : undefined;
  } catch {
    return undefined;
  }
}

/** A reply that echoes only id, opcode and RD: never larger than the 12-byte header it read. */
export function headerOnlyReply(id: number, queryFlags: number, rcode: Rcode): Buffer {
  const flags = (queryFlags & (OPCODE_MASK | dnsPacket.RECURSION_DESIRED)) | rcode;
  return dnsPacket.encode({ id, type: "response", flags });
}

export interface ReplyParts {
  rcode: Rcode;
  authoritative: boolean;
  recursionAvailable: boolean;
  answers?: Answer[];
  authorities?: Answer[];
}

// dns-packet turns unknown classes into "UNKNOWN_<n>" but encodes them back as 0.
const ECHOABLE_CLASSES = new Set(["IN", "CH", "HS", "CS", "ANY", undefined]);

/** The reply to a parsed query; falls back to a bare SERVFAIL if the answer cannot encode. */
export function buildReply(query: DecodedPacket, question: Question, parts: ReplyParts): Buffer {
  const id = query.id ?? 0;
  let flags = parts.rcode | (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0);
  if (parts.authoritative) flags |= dnsPacket.AUTHORITATIVE_ANSWER;
  if (parts.recursionAvailable) flags |= dnsPacket.RECURSION_AVAILABLE;
  const questions = ECHOABLE_CLASSES.has(question.class) ? [question] : [];
  try {
    return dnsPacket.encode({
      id,
      type: "response",
      flags,
      questions,
      answers: parts.answers ?? [],
      authorities: parts.authorities ?? [],
    });
  } catch {
    return headerOnlyReply(id, query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0, RCODE.SERVFAIL);
  }
}
