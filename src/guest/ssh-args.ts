import { BangerError } from "../errors/index.js";
import { remoteCommandLine } from "./shell-quote.js";

/** Where and as whom banger's ssh connects, and the files that make it trusted. */
export interface SshTarget {
  /** The VM's address (IPv4, IPv6 or host name). */
  host: string;
  /** The VM id: the name its pinned host key is filed under in known_hosts. */
  alias: string;
  keyPath: string;
  knownHostsPath: string;
  /** Defaults to `root`. */
  user?: string;
  /** Defaults to 22. */
  port?: number;
  /** The VM's name, for messages and hints; the alias when absent. */
  name?: string;
  /**
   * A Unix socket path for one shared connection (OpenSSH ControlMaster): the first command
   * opens it, later ones skip the handshake, which costs about a second in a TCG guest.
   */
  controlPath?: string;
}

export interface SshArgsOptions {
  /** Force a terminal (`-t`); otherwise `-T`. */
  tty?: boolean;
  /** Remote command as argv; each word is quoted for the remote shell. */
  command?: readonly string[];
  /** More ssh options, placed after banger's: ssh keeps the first value, so they add, never override. */
  extra?: readonly string[];
}

const CONNECT_TIMEOUT_S = 10;
const SERVER_ALIVE_INTERVAL_S = 15;
const SERVER_ALIVE_COUNT_MAX = 4;
/** An idle shared connection closes itself after this long. */
const CONTROL_PERSIST_S = 600;
// sun_path holds 108 bytes, and ssh binds `<path>.<16 random characters>` before renaming it.
const MAX_CONTROL_PATH_CHARS = 90;

/**
 * The argv (without `ssh` itself) for the system `ssh` to reach `target`: banger's key only,
 * banger's known_hosts only, strict host key checking under `HostKeyAlias=<alias>`, the user's
 * ssh config ignored (`-F /dev/null`). Pure. Throws INVALID_ARGUMENT for a host, user or path
 * that ssh would misread.
 */
export function sshArgs(target: SshTarget, opts: SshArgsOptions = {}): string[] {
  const host = checked("host", target.host, /^[A-Za-z0-9][A-Za-z0-9.:_-]*$/);
  const user = checked("user", target.user ?? "root", /^[a-z_][a-z0-9_-]*$/);
  const alias = checked("host alias", target.alias, /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
  const command = opts.command ?? [];

  return [
    ...["-F", "/dev/null"],
    ...["-i", sshPath(target.keyPath)],
    ...option("IdentitiesOnly", "yes"),
    ...option("UserKnownHostsFile", configPath(target.knownHostsPath)),
    ...option("GlobalKnownHostsFile", "/dev/null"),
    ...option("StrictHostKeyChecking", "yes"),
    ...option("HostKeyAlias", alias),
    // Without these, ssh would add IP-keyed or extra host key lines to banger's file.
    ...option("CheckHostIP", "no"),
    ...option("UpdateHostKeys", "no"),
    ...option("BatchMode", "yes"),
    ...option("LogLevel", "ERROR"),
    ...option("ConnectTimeout", String(CONNECT_TIMEOUT_S)),
    ...option("ServerAliveInterval", String(SERVER_ALIVE_INTERVAL_S)),
    ...option("ServerAliveCountMax", String(SERVER_ALIVE_COUNT_MAX)),
    ...multiplexing(target.controlPath),
    ...["-l", user],
    ...(target.port === undefined ? [] : ["-p", checkedPort(target.port)]),
    opts.tty === true ? "-t" : "-T",
    ...(opts.extra ?? []),
    // `--` before the destination: neither the host nor a command word can become an option.
    "--",
    host,
    ...(command.length > 0 ? [remoteCommandLine(command)] : []),
  ];
}

/**
 * The argv (without `ssh`) that asks the shared connection at `controlPath` to close; the
 * destination is required by ssh's syntax but not contacted.
 */
export function closeMasterArgs(controlPath: string): string[] {
  return [
    ...["-F", "/dev/null"],
    ...option("ControlPath", configPath(controlPath)),
    ...["-O", "exit", "--", "banger-vm"],
  ];
}

/** Whether `controlPath` fits in a socket address; a longer one means no shared connection. */
export function usableControlPath(controlPath: string): boolean {
  return controlPath.length <= MAX_CONTROL_PATH_CHARS;
}

function multiplexing(controlPath: string | undefined): string[] {
  if (controlPath === undefined || !usableControlPath(controlPath)) return [];
  return [
    ...option("ControlMaster", "auto"),
    ...option("ControlPath", configPath(controlPath)),
    ...option("ControlPersist", String(CONTROL_PERSIST_S)),
  ];
}

function option(name: string, value: string): string[] {
  return ["-o", `${name}=${value}`];
}

function checked(what: string, value: string, pattern: RegExp): string {
  if (pattern.test(value)) return value;
  throw new BangerError("INVALID_ARGUMENT", `invalid SSH ${what} "${value}"`, {
    hint: "check the VM with `banger vm show <vm>`",
  });
}

function checkedPort(port: number): string {
  if (Number.isInteger(port) && port > 0 && port < 65536) return String(port);
  throw new BangerError("INVALID_ARGUMENT", `invalid SSH port ${port}: expected 1 to 65535`);
}

// ssh expands `%x` tokens, `${VAR}` and a leading `~` in key and known_hosts paths, and checks
// an `-i` file before expanding it, so no escaping works for both: such paths are refused.
function sshPath(file: string): string {
  if (file.startsWith("/") && !/["'\\$%\n\r\t]/.test(file)) return file;
  throw new BangerError("INVALID_ARGUMENT", `invalid SSH file path "${file}"`, {
    hint: "set BANGER_STATE_DIR to an absolute path without quotes, `$`, `%` or backslashes",
  });
}

// In an `-o` value whitespace separates several files; double quotes keep a path whole.
function configPath(file: string): string {
  const checkedPath = sshPath(file);
  return checkedPath.includes(" ") ? `"${checkedPath}"` : checkedPath;
}
