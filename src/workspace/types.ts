// Private: the shapes that prepareWorkspace and exportWorkspace take and return.
import type { Reporter } from "../api/progress.js";
import type { WorkspaceView } from "../api/vm.js";
import type { SshTarget } from "../guest/index.js";

/** `shallow`: HEAD's commit plus the working tree's files; `full_copy`: the tree on disk. */
export type WorkspaceMode = "shallow" | "full_copy";

export interface PrepareWorkspaceOptions {
  target: SshTarget;
  /** Any path inside the host checkout; its enclosing work tree is sent. */
  hostPath: string;
  /** Absolute path in the guest; defaults to `/root/<repo-name>`. */
  guestPath?: string;
  mode: WorkspaceMode;
  /** Send untracked files that are not ignored (shallow mode; full_copy sends everything). */
  includeUntracked: boolean;
  /** A guest-only branch to create and check out. */
  branch?: string;
  /** A host revision the branch starts at; needs `branch`. */
  from?: string;
  /** List what would be sent without touching the VM. */
  dryRun: boolean;
  /** Send the whole tree even when the last prepare's record would allow an update. */
  fresh?: boolean;
  /**
   * Where the host keeps its record of the VM's last prepare (one per VM). With it, a repeated
   * prepare of the same checkout sends only what changed; without it, everything every time.
   */
  manifestPath?: string;
  report: Reporter;
  signal?: AbortSignal;
}

export type WorkspaceResult = WorkspaceView;

export interface ExportWorkspaceOptions {
  target: SshTarget;
  guestPath: string;
  /** The commit the workspace was prepared from; null diffs against the empty tree. */
  baseCommit: string | null;
  /** Refuse a patch larger than this; defaults to 1 GiB. */
  maxPatchBytes?: number;
  signal?: AbortSignal;
}

export interface ExportResult {
  /** A `git apply`-able binary patch; empty when nothing changed. */
  patch: Buffer;
  /** Number of files the patch touches. */
  files: number;
}
