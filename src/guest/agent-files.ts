import { access, constants } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { BangerError } from "../errors/index.js";

/** Where images carry the agent, and its unit. */
export const AGENT_GUEST_PATH = "/usr/local/bin/banger-agent";
export const AGENT_UNIT_NAME = "banger-agent.service";

// Both src/guest (tsx) and dist/guest (built) sit two levels below the package root.
const AGENT_BINARY = fileURLToPath(new URL("../../agent/build/banger-agent", import.meta.url));
const AGENT_UNIT = fileURLToPath(new URL("../../agent/banger-agent.service", import.meta.url));

/**
 * The host paths of the built agent binary and its systemd unit. Rejects with
 * HOST_MISSING_TOOL when the binary has not been built.
 */
export async function agentFiles(): Promise<{ binary: string; unit: string }> {
  try {
    await access(AGENT_BINARY, constants.X_OK);
  } catch (err) {
    throw new BangerError("HOST_MISSING_TOOL", `the guest agent "${AGENT_BINARY}" is not built`, {
      hint: "run `npm run build` (it needs gcc and libc6-dev)",
      cause: err,
    });
  }
  return { binary: AGENT_BINARY, unit: AGENT_UNIT };
}
