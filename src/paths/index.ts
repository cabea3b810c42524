// Every path banger reads or writes, in one place. docs/internals.md documents each of them;
// change both together.
import path from "node:path";

export interface Paths {
  /** Root of all durable state: `/var/lib/banger`, or `$BANGER_STATE_DIR`. */
  stateDir: string;
  /** Sockets and other run-time files: `/run/banger`, or `$BANGER_RUN_DIR`. */
  runDir: string;
  /** The daemon's HTTP socket: `<runDir>/bangerd.sock`, or `$BANGER_SOCKET`. */
  socketPath: string;
  /** The config file: `/etc/banger/config.toml`, or `$BANGER_CONFIG`. */
  configPath: string;
  dbPath: string;
  daemonLogPath: string;
  daemonPidPath: string;
  kernelsDir: string;
  imagesDir: string;
  vmsDir: string;
  /** Half-built kernels and images; emptied when the daemon starts. */
  stagingDir: string;
  /** Downloaded archive files, keyed by their SHA-256. */
  cacheDir: string;
  sshDir: string;
  sshKeyPath: string;
  knownHostsPath: string;
  /** Cached answer of the KVM probe, keyed by QEMU binary and kernel. */
  accelProbePath: string;
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): Paths {
  const stateDir = path.resolve(env["BANGER_STATE_DIR"] ?? "/var/lib/banger");
  const runDir = path.resolve(env["BANGER_RUN_DIR"] ?? "/run/banger");
  const sshDir = path.join(stateDir, "ssh");
  return {
    stateDir,
    runDir,
    socketPath: path.resolve(env["BANGER_SOCKET"] ?? path.join(runDir, "bangerd.sock")),
    configPath: path.resolve(env["BANGER_CONFIG"] ?? "/etc/banger/config.toml"),
    dbPath: path.join(stateDir, "banger.db"),
    daemonLogPath: path.join(stateDir, "bangerd.log"),
    daemonPidPath: path.join(runDir, "bangerd.pid"),
    kernelsDir: path.join(stateDir, "kernels"),
    imagesDir: path.join(stateDir, "images"),
    vmsDir: path.join(stateDir, "vms"),
    stagingDir: path.join(stateDir, "staging"),
    cacheDir: path.join(stateDir, "cache"),
    sshDir,
    sshKeyPath: path.join(sshDir, "id_ed25519"),
    knownHostsPath: path.join(sshDir, "known_hosts"),
    accelProbePath: path.join(stateDir, "accel-probe.json"),
  };
}

/** Files of one VM, all inside `<stateDir>/vms/<id>/`. */
export interface VmFiles {
  dir: string;
  /** qcow2 copy-on-write layer over the image's rootfs. */
  rootOverlay: string;
  /** Persistent ext4 disk mounted at /root in the guest. */
  workDisk: string;
  /** Kernel initramfs with this VM's boot archive appended. */
  initrd: string;
  /** Everything the guest writes to its serial console. */
  consoleLog: string;
  vmmPidFile: string;
  /** QMP control socket of the qemu driver, API socket of Firecracker. */
  controlSocket: string;
  /** Unix socket the VMM serves for the guest agent channel. */
  agentSocket: string;
  /** Momentary facts (pid, tap): re-read and checked, never trusted. */
  handles: string;
  /** This VM's SSH host key (private), handed to the guest at boot. */
  hostKey: string;
  /** Output of the VMM process itself (not the guest). */
  vmmLog: string;
  /** The shared SSH connection that workspace commands reuse (OpenSSH ControlPath). */
  sshControl: string;
  /** What the last workspace prepare sent, so that the next one sends only what changed. */
  workspaceManifest: string;
}

export function vmFiles(paths: Paths, vmId: string): VmFiles {
  const dir = path.join(paths.vmsDir, vmId);
  return {
    dir,
    rootOverlay: path.join(dir, "root.qcow2"),
    workDisk: path.join(dir, "work.ext4"),
    initrd: path.join(dir, "initrd.img"),
    consoleLog: path.join(dir, "console.log"),
    vmmPidFile: path.join(dir, "vmm.pid"),
    controlSocket: path.join(dir, "control.sock"),
    agentSocket: path.join(dir, "agent.sock"),
    handles: path.join(dir, "handles.json"),
    hostKey: path.join(dir, "ssh_host_ed25519_key"),
    vmmLog: path.join(dir, "vmm.log"),
    sshControl: path.join(dir, "ssh.mux"),
    workspaceManifest: path.join(dir, "workspace.json"),
  };
}

export function kernelDir(paths: Paths, name: string): string {
  return path.join(paths.kernelsDir, name);
}

export function imageDir(paths: Paths, name: string): string {
  return path.join(paths.imagesDir, name);
}
