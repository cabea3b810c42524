// Private: one query in, at most one reply out, the same for UDP and TCP. Zone answers are
// computed synchronously; only forwarded queries wait, each on its own.
import type { Logger } from "../log/index.js";
import type { Forwarder } from "./forwarder.js";
import { buildReply, parseQuery, RCODE } from "./message.js";
import { ReplyCache } from "./reply-cache.js";
import type { DnsRecords } from "./types.js";
import { answerFromZone, type ZoneAnswer } from "./zone.js";

/** Calls `done` exactly once: with the reply, or undefined when the message gets silence. */
export type Respond = (query: Buffer, done: (reply: Buffer | undefined) => void) => void;

export interface ResponderConfig {
  records: DnsRecords;
  zone: string;
  forwarder: Forwarder | undefined;
  logger: Logger;
}

export function createResponder(config: ResponderConfig): Respond {
  const recursionAvailable = config.forwarder !== undefined;
  const cache = new ReplyCache();
  return (query, done) => {
    const parsed = parseQuery(query);
    if (parsed.kind !== "query") {
      done(parsed.kind === "reply" ? parsed.reply : undefined);
      return;
    }
    const { packet, question } = parsed;
    const reply = (parts: Omit<ZoneAnswer, "answers" | "authorities"> & Partial<ZoneAnswer>) =>
      buildReply(packet, question, { authoritative: false, recursionAvailable, ...parts });

    let zoneAnswer: ZoneAnswer | undefined;
    try {
      zoneAnswer = answerFromZone(question, config.records, config.zone);
    } catch (err) {
      config.logger.error({ err, name: question.name }, "dns records lookup failed");
      done(reply({ rcode: RCODE.SERVFAIL }));
      return;
    }
    if (zoneAnswer !== undefined) {
      const key = ReplyCache.keyOf(question, packet.flag_rd, zoneAnswer);
      const cached = cache.get(key, packet.id ?? 0);
      if (cached !== undefined) return done(cached);
      const built = buildReply(packet, question, {
        ...zoneAnswer,
        authoritative: true,
        recursionAvailable,
      });
      cache.set(key, built);
      done(built);
      return;
    }

    // Without RD the asker wants no recursion, and this server holds no cache to answer from.
    if (config.forwarder === undefined || !packet.flag_rd) {
      done(reply({ rcode: RCODE.REFUSED }));
      return;
    }
    void config.forwarder
      .forward(query, question)
      .then((upstreamReply) => done(upstreamReply ?? reply({ rcode: RCODE.SERVFAIL })));
  };
}
