// Private, for tests only: a throwaway OpenSSH server on 127.0.0.1 standing in for a guest,
// with banger's key authorised and its host key pinned. Needs root and openssh-server.
import { spawn, type ChildProcess } from "node:child_process";
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  ensureSshKey,
  generateHostKey,
  pinHostKey,
  waitForSsh,
  type SshTarget,
} from "../guest/index.js";
import { resolvePaths } from "../paths/index.js";

const SSHD = "/usr/sbin/sshd";
const ALIAS = "wstest01";

export interface SshdFixture {
  target: SshTarget;
  /** A scratch directory for the test's own files. */
  dir: string;
  stop(): Promise<void>;
}

/** Why the fixture cannot run here, or false. */
export async function sshdSkipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return "needs root to log in as root";
  try {
    await access(SSHD);
    return false;
  } catch {
    return `${SSHD} is missing (apt-get install openssh-server)`;
  }
}

export async function startSshd(): Promise<SshdFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), "banger-ws-test-"));
  const serverDir = path.join(dir, "sshd");
  await mkdir(serverDir);
  const paths = resolvePaths({ BANGER_STATE_DIR: path.join(dir, "state") });
  const key = await ensureSshKey(paths);
  await writeFile(path.join(serverDir, "authorized_keys"), `${key.publicKey}\n`);
  const hostKeyPath = path.join(serverDir, "ssh_host_ed25519_key");
  const hostKey = await generateHostKey(hostKeyPath);
  await pinHostKey(paths.knownHostsPath, ALIAS, hostKey.publicKey);

  const port = await freePort();
  const config = path.join(serverDir, "sshd_config");
  await writeFile(config, sshdConfig(serverDir, hostKeyPath, port));
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (log += c));
  const stop = async (): Promise<void> => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForSsh("127.0.0.1", { port, timeoutMs: 10_000 });
  } catch (err) {
    await stop();
    throw new Error(`sshd did not start:\n${log}`, { cause: err });
  }
  const target: SshTarget = {
    host: "127.0.0.1",
    alias: ALIAS,
    keyPath: key.privateKeyPath,
    knownHostsPath: paths.knownHostsPath,
    port,
  };
  return { target, dir, stop };
}

function sshdConfig(serverDir: string, hostKeyPath: string, port: number): string {
  return [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${hostKeyPath}`,
    `AuthorizedKeysFile ${path.join(serverDir, "authorized_keys")}`,
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    // The temp dir lives under world-writable /tmp, which StrictModes rejects.
    "StrictModes no",
    "MaxStartups 100",
    `PidFile ${path.join(serverDir, "sshd.pid")}`,
    "LogLevel ERROR",
    "",
  ].join("\n");
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}
