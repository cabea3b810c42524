// Reaching the inside of a VM: banger's SSH client key, each VM's pinned host key, and running
// the system ssh against a guest.
export { forgetHostKey, pinHostKey } from "./known-hosts.js";
export { sshArgs, usableControlPath, type SshArgsOptions, type SshTarget } from "./ssh-args.js";
export {
  closeSshMaster,
  sshExec,
  sshMasterOpen,
  type SshExecOptions,
  type SshExecResult,
} from "./ssh-exec.js";
export { ensureSshKey, generateHostKey, type SshKey } from "./ssh-key.js";
export { waitForSsh, type WaitForSshOptions } from "./wait-for-ssh.js";
export { AgentClient, type AgentClientOptions } from "./agent-client.js";
export {
  AGENT_PROTOCOL_VERSION,
  type AgentHealth,
  type AgentPort,
  type AgentStats,
} from "./agent-protocol.js";
export { agentFiles, AGENT_GUEST_PATH, AGENT_UNIT_NAME } from "./agent-files.js";
