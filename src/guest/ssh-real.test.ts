// Against a real OpenSSH server: a throwaway sshd on 127.0.0.1 at a free high port, run as root
// with its own config, host key and authorized_keys, killed in every path.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { isBangerError } from "../errors/index.js";
import { resolvePaths } from "../paths/index.js";
import {
  ensureSshKey,
  forgetHostKey,
  generateHostKey,
  pinHostKey,
  sshExec,
  waitForSsh,
  type SshTarget,
} from "./index.js";

const SSHD = "/usr/sbin/sshd";
const ALIAS = "vmtest01";

async function skipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return "needs root to log in as root";
  try {
    await access(SSHD);
    return false;
  } catch {
    return `${SSHD} is missing (apt-get install openssh-server)`;
  }
}
const skip = await skipReason();

// banger's side lives under a name with a space, to prove its paths reach ssh intact;
// sshd's own files stay in a plain directory because sshd_config cannot quote every keyword.
let dir = "";
let serverDir = "";
let port = 0;
let sshd: ChildProcess | undefined;
let sshdLog = "";
let target: SshTarget;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

async function startSshd(hostKeyPath: string): Promise<void> {
  const config = path.join(serverDir, "sshd_config");
  await writeFile(
    config,
    [
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
      `PidFile ${path.join(serverDir, "sshd.pid")}`,
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  // sshd refuses to start without its privilege separation directory.
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  sshd = spawn(SSHD, ["-D", "-e", "-f", config, "-h", hostKeyPath], { stdio: "pipe" });
  sshd.stderr?.setEncoding("utf8").on("data", (c: string) => (sshdLog += c));
  try {
    await waitForSsh("127.0.0.1", { port, timeoutMs: 10_000 });
  } catch (err) {
    throw new Error(`sshd did not start:\n${sshdLog}`, { cause: err });
  }
}

async function stopSshd(): Promise<void> {
  const child = sshd;
  sshd = undefined;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(tmpdir(), "banger ssh test-"));
  serverDir = await mkdtemp(path.join(tmpdir(), "banger-sshd-"));
  port = await freePort();
  const paths = resolvePaths({ BANGER_STATE_DIR: path.join(dir, "state") });
  const key = await ensureSshKey(paths);
  await writeFile(path.join(serverDir, "authorized_keys"), `${key.publicKey}\n`);

  const hostKeyPath = path.join(serverDir, "host-a", "ssh_host_ed25519_key");
  const hostKey = await generateHostKey(hostKeyPath);
  await pinHostKey(paths.knownHostsPath, ALIAS, hostKey.publicKey);
  target = {
    host: "127.0.0.1",
    alias: ALIAS,
    keyPath: key.privateKeyPath,
    knownHostsPath: paths.knownHostsPath,
    port,
  };
  await startSshd(hostKeyPath);
});

after(async () => {
  await stopSshd();
  for (const d of [dir, serverDir]) if (d !== "") await rm(d, { recursive: true, force: true });
});

async function exec(command: string[], input?: string): ReturnType<typeof sshExec> {
  return sshExec(target, command, { timeoutMs: 20_000, ...(input === undefined ? {} : { input }) });
}

test("sshExec runs a command on a pinned host", { skip }, async () => {
  assert.deepEqual(await exec(["echo", "hi"]), { code: 0, stdout: "hi\n", stderr: "" });
});

test("sshExec passes the remote exit status through", { skip }, async () => {
  assert.equal((await exec(["sh", "-c", "exit 7"])).code, 7);
});

test("sshExec delivers awkward arguments unchanged, and stdin", { skip }, async () => {
  const words = ["with space", "it's", '"dq"', "$HOME", "$(id)", "a\nb", "", "*", "-n"];
  const printed = await exec(["printf", "%s\\0", ...words]);
  assert.equal(printed.code, 0, printed.stderr);
  assert.deepEqual(printed.stdout.split("\0").slice(0, -1), words);

  const echoed = await exec(["cat"], "from stdin\n");
  assert.equal(echoed.stdout, "from stdin\n");
});

test("sshExec refuses a host whose key is not the pinned one", { skip }, async () => {
  await stopSshd();
  await startSshd((await newHostKey("host-b")).keyPath);

  await assert.rejects(exec(["echo", "hi"]), (err) => {
    assert.ok(isBangerError(err, "VM_HOST_KEY_MISMATCH"), String(err));
    assert.match(err.message, /vmtest01/);
    return true;
  });
});

test("sshExec refuses a host with no pinned key", { skip }, async () => {
  await forgetHostKey(target.knownHostsPath, ALIAS);
  await assert.rejects(exec(["echo", "hi"]), (err) => isBangerError(err, "VM_HOST_KEY_MISMATCH"));
});

test("sshExec reports an unreachable VM as VM_SSH_UNAVAILABLE", { skip }, async () => {
  await stopSshd();
  await assert.rejects(exec(["echo", "hi"]), (err) => {
    assert.ok(isBangerError(err, "VM_SSH_UNAVAILABLE"), String(err));
    assert.match(err.message, /refused/);
    return true;
  });
});

async function newHostKey(name: string): Promise<{ keyPath: string }> {
  const keyPath = path.join(serverDir, name, "ssh_host_ed25519_key");
  await generateHostKey(keyPath);
  return { keyPath };
}
