import { randomInt } from "node:crypto";
import { BangerError } from "../errors/index.js";

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A VM name becomes a hostname, a DNS record, a directory and a kernel argument, so it must be
 * a DNS label. Throws INVALID_NAME naming the rule.
 */
export function validateName(name: string): string {
  if (!LABEL.test(name)) {
    const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
    throw new BangerError(
      "INVALID_NAME",
      `invalid VM name ${shown}: use lowercase letters, digits and hyphens, at most 63, ` +
        `not starting or ending with a hyphen`,
      { hint: "for example: --name web-1" },
    );
  }
  return name;
}

const ADJECTIVES = [
  "amber",
  "brave",
  "calm",
  "crisp",
  "dusty",
  "eager",
  "fuzzy",
  "gentle",
  "happy",
  "icy",
  "jolly",
  "keen",
  "lucky",
  "mellow",
  "nimble",
  "odd",
  "proud",
  "quick",
  "rusty",
  "shiny",
  "tidy",
  "urban",
  "vivid",
  "witty",
  "young",
  "zesty",
  "bold",
  "cosy",
  "deft",
  "fair",
];
const NOUNS = [
  "otter",
  "falcon",
  "badger",
  "heron",
  "lynx",
  "marmot",
  "newt",
  "osprey",
  "panda",
  "quail",
  "raven",
  "salmon",
  "tapir",
  "urchin",
  "viper",
  "walrus",
  "yak",
  "zebra",
  "bison",
  "crane",
  "dingo",
  "egret",
  "ferret",
  "gecko",
  "hare",
  "ibis",
  "jackal",
  "koala",
  "lemur",
  "moose",
];

/** A two-word name such as `brave-otter` that `taken` does not contain (suffixed if needed). */
export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}`;
    const name = attempt < 20 ? base : `${base}-${randomInt(1000)}`;
    if (!taken(name)) return name;
  }
  throw new Error("could not find a free generated name after 50 attempts");
}
