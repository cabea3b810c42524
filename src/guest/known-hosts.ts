import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { BangerError, isErrno } from "../errors/index.js";
import { parsePublicKey } from "./ssh-public-key.js";

// A VM id or name; no whitespace, commas, wildcards, brackets or `|` (hashed-host marker), which
// known_hosts would read as a pattern.
const ALIAS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

// Edits of one file run one after another: two VMs pinned at once must not lose a line.
const queues = new Map<string, Promise<unknown>>();

/**
 * Writes `<alias> <type> <base64>` into banger's known_hosts, replacing any line for the same
 * alias. Other lines are kept byte for byte. The file is replaced atomically (write aside, then
 * rename); edits within this process are serialized. Throws INVALID_ARGUMENT for a bad alias or
 * key. Idempotent.
 */
export async function pinHostKey(
  knownHostsPath: string,
  alias: string,
  publicKey: string,
): Promise<void> {
  assertAlias(alias);
  const key = parsePublicKey(publicKey, `host key of "${alias}"`);
  await editLines(knownHostsPath, (lines) => [
    ...lines.filter((l) => !isLineFor(l, alias)),
    `${alias} ${key.type} ${key.base64}`,
  ]);
}

/**
 * Removes every known_hosts line for `alias`, keeping the others byte for byte. Idempotent: a
 * missing file or alias is fine.
 */
export async function forgetHostKey(knownHostsPath: string, alias: string): Promise<void> {
  assertAlias(alias);
  await editLines(knownHostsPath, (lines) => lines.filter((l) => !isLineFor(l, alias)));
}

function assertAlias(alias: string): void {
  if (ALIAS.test(alias)) return;
  throw new BangerError("INVALID_ARGUMENT", `invalid SSH host alias "${alias}": not a VM id`, {
    hint: "pass the VM's id, as `banger vm show <vm>` prints it",
  });
}

function isLineFor(line: string, alias: string): boolean {
  return line.split(/[ \t]/, 1)[0] === alias;
}

function editLines(file: string, edit: (lines: string[]) => string[]): Promise<void> {
  const previous = queues.get(file) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => rewrite(file, edit));
  queues.set(file, next);
  const forget = (): void => {
    if (queues.get(file) === next) queues.delete(file);
  };
  next.then(forget, forget);
  return next;
}

async function rewrite(file: string, edit: (lines: string[]) => string[]): Promise<void> {
  const { text, mode } = await readIfPresent(file);
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const edited = edit(lines);
  if (edited.length === lines.length && edited.every((l, i) => l === lines[i])) return;

  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, edited.map((l) => `${l}\n`).join(""), { mode });
  await rename(tmp, file);
}

async function readIfPresent(file: string): Promise<{ text: string; mode: number }> {
  try {
    const [text, info] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    return { text, mode: info.mode & 0o777 };
  } catch (err) {
    if (isErrno(err, "ENOENT")) return { text: "", mode: 0o644 };
    throw err;
  }
}
