import { z } from "zod";
import type { AgentHealth } from "./agent.js";

export type VmStateName = "created" | "starting" | "running" | "stopping" | "stopped" | "error";

/** A VM as the daemon reports it. */
export interface VmView {
  id: string;
  name: string;
  state: VmStateName;
  image: string;
  kernel: string;
  vcpus: number;
  memoryMib: number;
  diskSizeMib: number;
  /** Present while the VM holds a lease (running or starting). */
  address?: string;
  pid?: number;
  tap?: string;
  accel?: string;
  lastError?: string;
  createdAt: string;
  consoleLog: string;
  /** Masquerading beyond the bridge (`--nat`); without it the VM reaches only the bridge. */
  nat: boolean;
  /** The checkout last prepared in the VM. */
  workspace?: { guestPath: string; hostPath: string; commit: string | null; preparedAt: string };
  /** The guest agent's last health answer (only from `show`), or why there is none. */
  agent?: { health?: AgentHealth; checkedAt?: string; error?: string };
}

/** Body of POST /v1/vms. Sizes are strings as users typed them; the daemon parses them. */
export const createVmRequest = z
  .object({
    name: z.string().optional(),
    image: z.string().optional(),
    kernel: z.string().optional(),
    vcpus: z.number().int().optional(),
    memory: z.string().optional(),
    diskSize: z.string().optional(),
    bootTimeout: z.string().optional(),
    start: z.boolean().default(true),
    /** Wait for SSH too, not only for the guest agent (`vm run` needs it). */
    waitForSsh: z.boolean().default(false),
    /** Masquerading for the VM's address, so it reaches beyond the bridge. */
    nat: z.boolean().default(false),
  })
  .strict();
export type CreateVmRequest = z.input<typeof createVmRequest>;

/** Body of POST /v1/vms/<vm>/set: CPUs and memory of a stopped VM, NAT in any state. */
export const setVmRequest = z
  .object({
    vcpus: z.number().int().optional(),
    memory: z.string().optional(),
    nat: z.boolean().optional(),
  })
  .strict();
export type SetVmRequest = z.infer<typeof setVmRequest>;

export const killVmRequest = z.object({ signal: z.string().default("SIGKILL") }).strict();

/** What the CLI needs to run the system ssh against a VM. */
export interface SshPlan {
  argv: string[];
  vm: VmView;
}

/** Defaults a new VM gets, and where each came from. */
export interface DefaultsView {
  vcpus: number;
  memoryMib: number;
  diskSizeMib: number;
  image: string;
  kernel: string;
  origins: Record<string, string>;
}

/** One row of a multi-VM command's reply. */
export interface BatchItem {
  name: string;
  ok: boolean;
  error?: ErrorBody;
  vm?: VmView;
}

/** How errors cross the wire. */
export interface ErrorBody {
  code: string;
  message: string;
  hint?: string;
  causes?: string[];
}

/** The last line of an NDJSON stream. */
export type StreamEnd = { type: "result"; result: unknown } | { type: "error"; error: ErrorBody };

/** Body of POST /v1/images: register a host ext4 file as an image, in place. */
export const registerImageRequest = z
  .object({ name: z.string(), rootfs: z.string().startsWith("/"), kernel: z.string().optional() })
  .strict();

/** Body of POST /v1/images/pull: an OCI image pulled into the image store. */
export const pullImageRequest = z
  .object({
    ref: z.string().min(1),
    name: z.string().optional(),
    insecure: z.boolean().optional(),
    size: z.string().optional(),
    kernel: z.string().optional(),
  })
  .strict();

/** Body of POST /v1/kernels/import: a host kernel stored under `name`. */
export const importKernelRequest = z
  .object({
    name: z.string(),
    kernel: z.string().startsWith("/"),
    initrd: z.string().startsWith("/").optional(),
    modules: z.string().startsWith("/").optional(),
  })
  .strict();

/** An image as the daemon reports it. */
export interface ImageView {
  name: string;
  rootfsPath: string;
  sizeBytes: number;
  source: string;
  kernel?: string;
  agent: boolean;
  needsNat?: boolean;
  createdAt: string;
}

/** A kernel as the daemon reports it. */
export interface KernelView {
  name: string;
  version: string;
  kernelPath: string;
  initrdPath: string;
  createdAt: string;
}

/** Body of the workspace routes: which checkout goes where, and how. */
export const workspaceRequest = z
  .object({
    hostPath: z.string().startsWith("/"),
    guestPath: z.string().startsWith("/").optional(),
    mode: z.enum(["shallow", "full_copy"]).optional(),
    includeUntracked: z.boolean().optional(),
    branch: z.string().optional(),
    from: z.string().optional(),
    dryRun: z.boolean().optional(),
    fresh: z.boolean().optional(),
  })
  .strict();
export type WorkspaceRequest = z.infer<typeof workspaceRequest>;

export const exportWorkspaceRequest = z
  .object({ baseCommit: z.string().optional(), guestPath: z.string().optional() })
  .strict();

/** What a repeated prepare sent when only the changes since the last one were needed. */
export interface WorkspaceUpdate {
  /** Entries sent (files, symlinks, directories). */
  sent: number;
  /** Bytes of the regular files sent. */
  bytes: number;
  /** Guest paths removed. */
  removed: number;
  /** The commit the guest's HEAD moved to, when the host committed since the last prepare. */
  commit?: string;
}

/** What a prepare sent (or, for a dry run, would send). */
export interface WorkspaceView {
  guestPath: string;
  /** The host work tree's top directory. */
  hostPath: string;
  /** The commit the guest workspace is based on; null for a repository without commits. */
  commit: string | null;
  /** Files and symlinks in the workspace (directories are not counted). */
  files: number;
  /** Total size of its regular files, in bytes. */
  bytes: number;
  /** With a dry run only: the paths that would be sent, relative to `hostPath`. */
  listing?: string[];
  /** Set when only what changed since the last prepare was sent. */
  update?: WorkspaceUpdate;
}
