// Private: the authoritative answers for `<name>.<zone>` and for the reverse names of known
// addresses. Pure: a question and the records in, the reply's parts out.
import type { Answer, Question } from "dns-packet";
import { RCODE, type Rcode } from "./message.js";
import type { DnsRecords } from "./types.js";

/** Short, because VMs come and go and a cached NXDOMAIN would hide a new one. */
export const RECORD_TTL_S = 5;

export interface ZoneAnswer {
  rcode: Rcode;
  answers: Answer[];
  authorities: Answer[];
}

const REVERSE_SUFFIX = ".in-addr.arpa";

/**
 * The answer for `question` if this server has authority over its name, else undefined (the
 * caller forwards or refuses). Reverse names of unknown addresses are not ours.
 */
export function answerFromZone(
  question: Question,
  records: DnsRecords,
  zone: string,
): ZoneAnswer | undefined {
  const name = question.name.toLowerCase();
  if (name === zone) return answerApex(question, zone);
  if (name.endsWith(`.${zone}`)) {
    return answerVm(question, records, zone, name.slice(0, -(zone.length + 1)));
  }
  if (name.endsWith(REVERSE_SUFFIX)) return answerReverse(question, records, zone, name);
  return undefined;
}

function answerApex(question: Question, zone: string): ZoneAnswer {
  if (!isInternet(question)) return refused();
  if (asks(question, "SOA")) {
    return { rcode: RCODE.NOERROR, answers: [soaRecord(zone, question.name)], authorities: [] };
  }
  return noData(zone);
}

function answerVm(question: Question, records: DnsRecords, zone: string, vm: string): ZoneAnswer {
  if (!isInternet(question)) return refused();
  const ipv4 = records.lookup(vm);
  if (ipv4 === undefined) {
    return { rcode: RCODE.NXDOMAIN, answers: [], authorities: [soaRecord(zone, zone)] };
  }
  if (!asks(question, "A")) return noData(zone);
  // The owner name keeps the asker's case: resolvers using 0x20 randomisation compare it.
  const answer: Answer = { type: "A", name: question.name, ttl: RECORD_TTL_S, data: ipv4 };
  return { rcode: RCODE.NOERROR, answers: [answer], authorities: [] };
}

function answerReverse(
  question: Question,
  records: DnsRecords,
  zone: string,
  name: string,
): ZoneAnswer | undefined {
  const ipv4 = addressOfReverseName(name);
  const vm = ipv4 === undefined ? undefined : records.reverse(ipv4);
  if (vm === undefined) return undefined;
  if (!isInternet(question)) return refused();
  if (!asks(question, "PTR")) {
    return { rcode: RCODE.NOERROR, answers: [], authorities: [] };
  }
  const data = `${vm}.${zone}`;
  const answer: Answer = { type: "PTR", name: question.name, ttl: RECORD_TTL_S, data };
  return { rcode: RCODE.NOERROR, answers: [answer], authorities: [] };
}

/** "4.3.2.1.in-addr.arpa" → "1.2.3.4"; undefined unless exactly four canonical octets. */
export function addressOfReverseName(name: string): string | undefined {
  const labels = name.slice(0, -REVERSE_SUFFIX.length).split(".");
  if (labels.length !== 4) return undefined;
  const canonical = labels.every((l) => /^(0|[1-9][0-9]{0,2})$/.test(l) && Number(l) <= 255);
  return canonical ? labels.reverse().join(".") : undefined;
}

// The decoder also yields "ANY" and "UNKNOWN_<n>", which dns-packet's types leave out.
function asks(question: Question, type: "A" | "SOA" | "PTR"): boolean {
  const asked: string = question.type;
  return asked === type || asked === "ANY";
}

function isInternet(question: Question): boolean {
  return question.class === undefined || question.class === "IN" || question.class === "ANY";
}

function refused(): ZoneAnswer {
  return { rcode: RCODE.REFUSED, answers: [], authorities: [] };
}

// The SOA in the authority section lets resolvers cache the negative answer (RFC 2308).
function noData(zone: string): ZoneAnswer {
  return { rcode: RCODE.NOERROR, answers: [], authorities: [soaRecord(zone, zone)] };
}

function soaRecord(zone: string, owner: string): Answer {
  return {
    type: "SOA",
    name: owner,
    ttl: RECORD_TTL_S,
    data: {
      mname: `ns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: RECORD_TTL_S,
    },
  };
}
