// banger's own ssh_config for `ssh <name>.vm`, and the marker-fenced `Include` of it in the
// user's ~/.ssh/config. Everything outside the fence is kept byte for byte.
import { chown, lstat, mkdir, readFile, readlink, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { BangerError, isErrno } from "../errors/index.js";

export const BEGIN_MARKER = "# >>> banger ssh-config >>>";
export const END_MARKER = "# <<< banger ssh-config <<<";
const FENCE = /^# >>> banger ssh-config >>>\n[\s\S]*?^# <<< banger ssh-config <<<(?:\n|$)/m;
const MAX_SYMLINKS = 40;

export interface SshConfigSettings {
  keyPath: string;
  knownHostsPath: string;
  /** How ssh runs this CLI: argv words, such as [node, main.js] with an `env` prefix. */
  cli: readonly string[];
}

/**
 * The text of banger's ssh_config: `Host *.vm` reaches the VM through `banger vm ssh-proxy`
 * (no DNS needed) and checks its host key strictly against the key pinned for that VM, which
 * `banger vm known-hosts` prints under the name ssh asks for. Throws INVALID_ARGUMENT for a
 * word ssh would split, expand (`%`) or hand to a shell unquoted.
 */
export function sshConfigText(s: SshConfigSettings): string {
  const cli = s.cli.map(safeWord).join(" ");
  return [
    "# Written by `banger ssh-config`; rewritten each time it runs.",
    "Host *.vm",
    "  User root",
    `  IdentityFile ${safeWord(s.keyPath)}`,
    "  IdentitiesOnly yes",
    `  UserKnownHostsFile ${safeWord(s.knownHostsPath)}`,
    "  GlobalKnownHostsFile /dev/null",
    `  KnownHostsCommand ${cli} vm known-hosts %H`,
    "  StrictHostKeyChecking yes",
    "  CheckHostIP no",
    "  UpdateHostKeys no",
    `  ProxyCommand ${cli} vm ssh-proxy %h`,
    "",
  ].join("\n");
}

function safeWord(word: string): string {
  if (/^[A-Za-z0-9/._+=:,@-]+$/.test(word)) return word;
  throw new BangerError(
    "INVALID_ARGUMENT",
    `cannot write banger's ssh_config: "${word}" has characters ssh would misread`,
    { hint: "install banger and its state dir under paths without spaces, quotes, `$` or `%`" },
  );
}

/** The fenced block that includes `includePath`. */
export function includeBlock(includePath: string): string {
  return `${BEGIN_MARKER}\nInclude ${safeWord(includePath)}\n${END_MARKER}\n`;
}

/**
 * `text` with banger's block: an existing block is replaced where it stands, otherwise the
 * block goes first, because ssh applies an `Include` after a `Host` line only to that host.
 */
export function withInclude(text: string, includePath: string): string {
  const block = includeBlock(includePath);
  return FENCE.test(text) ? text.replace(FENCE, () => block) : block + text;
}

/** `text` without banger's block (and only it). */
export function withoutInclude(text: string): string {
  return text.replace(FENCE, "");
}

/**
 * Applies `edit` to the ssh config at `file`, following symlinks so the target is edited and
 * the link kept. A missing file reads as empty and is created (mode 0600, its directory 0700)
 * only when the edit adds something. The target is replaced atomically, keeping its mode and
 * owner. Returns whether anything changed; unchanged text is never written.
 */
export async function editSshConfig(
  file: string,
  edit: (text: string) => string,
): Promise<{ changed: boolean; path: string }> {
  const target = await followLinks(file);
  const current = await readIfPresent(target);
  const next = edit(current?.text ?? "");
  if (next === (current?.text ?? "")) return { changed: false, path: target };

  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  const tmp = `${target}.banger-${process.pid}.tmp`;
  await writeFile(tmp, next, { mode: current?.mode ?? 0o600 });
  if (current && process.getuid?.() === 0) await chown(tmp, current.uid, current.gid);
  await rename(tmp, target);
  return { changed: true, path: target };
}

async function followLinks(file: string): Promise<string> {
  let current = path.resolve(file);
  for (let i = 0; i < MAX_SYMLINKS; i++) {
    try {
      if (!(await lstat(current)).isSymbolicLink()) return current;
    } catch (err) {
      if (isErrno(err, "ENOENT")) return current;
      throw err;
    }
    current = path.resolve(path.dirname(current), await readlink(current));
  }
  throw new BangerError("INVALID_ARGUMENT", `cannot edit "${file}": too many symbolic links`);
}

async function readIfPresent(
  file: string,
): Promise<{ text: string; mode: number; uid: number; gid: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    return { text, mode: info.mode & 0o777, uid: info.uid, gid: info.gid };
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
}
