// Private: encoded zone replies, reused with only the id patched. Encoding with dns-packet
// costs more than everything else a zone query does, and a few names get asked over and over.
import type { Question } from "dns-packet";
import type { ZoneAnswer } from "./zone.js";

/** Entries kept before the cache starts over; a VM host has tens of names, not thousands. */
const MAX_ENTRIES = 4096;

export class ReplyCache {
  private readonly entries = new Map<string, Buffer>();

  /**
   * The key covers everything a zone reply is built from except the id: the question as
   * asked (case included), RD, and the answer itself, so a changed record misses the cache.
   */
  static keyOf(question: Question, rd: boolean, answer: ZoneAnswer): string {
    const data = answer.answers.map((a) => ("data" in a ? String(a.data) : "")).join(",");
    return `${question.name}\0${question.type}\0${question.class}\0${rd}\0${answer.rcode}\0${data}`;
  }

  /** A fresh copy of the cached reply carrying `id`, or undefined. */
  get(key: string, id: number): Buffer | undefined {
    const cached = this.entries.get(key);
    if (cached === undefined) return undefined;
    const reply = Buffer.allocUnsafe(cached.length);
    cached.copy(reply);
    reply.writeUInt16BE(id, 0);
    return reply;
  }

  set(key: string, reply: Buffer): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, Buffer.from(reply));
  }
}
