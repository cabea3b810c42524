// Workspaces: a host git checkout copied into a VM (atomically replacing the previous copy), and
// the guest's changes brought back as a patch that `git apply` takes on the host.
import { exportWorkspace as exportImpl } from "./export.js";
import { prepareWorkspace as prepareImpl } from "./prepare.js";
import type {
  ExportResult,
  ExportWorkspaceOptions,
  PrepareWorkspaceOptions,
  WorkspaceResult,
} from "./types.js";

export type {
  ExportResult,
  ExportWorkspaceOptions,
  PrepareWorkspaceOptions,
  WorkspaceMode,
  WorkspaceResult,
} from "./types.js";

/**
 * Copies the git work tree enclosing `hostPath` to `guestPath` (default `/root/<repo-name>`) in
 * the VM and resolves with what was sent, for the caller to record on the VM.
 *
 * - `shallow`: HEAD's commit alone (no history; the guest repo is shallow), then the files as
 *   they are on disk: tracked files with their modifications, staged or not; deleted ones absent
 *   (so the guest shows them deleted); untracked, not-ignored files only with
 *   `includeUntracked` (else a note with their count); ignored files never. Refuses submodules.
 * - `full_copy`: every file under the top directory, `.git`, submodules, ignored files and empty
 *   directories included. Refuses a linked worktree (its `.git` points outside the tree).
 * - A repository without commits is sent without history: the guest gets `git init` on the same
 *   branch name plus the files, all untracked, and `commit` is null.
 * - `branch` creates a guest-only branch at the base; with `from` (a host revision) it starts
 *   there instead and the guest gets a clean checkout of that commit (local changes not sent).
 * - Symlinks stay symlinks and are never followed (a path behind a symlinked directory is skipped
 *   with a warning note); modes are kept; files belong to the guest user. The host's
 *   `user.name`/`user.email` are set in the guest repository.
 * - `dryRun` touches no VM and adds `listing`, the paths that would be sent.
 *
 * Replacement is atomic enough: the new tree is built in `<guestPath>.banger-tmp-<rand>` and
 * renamed over the old one only when complete; a failure removes the staging dir and leaves the
 * previous workspace as it was, and a swap cut short is put back by the next prepare.
 * Two prepares of the same `guestPath` must not run at once (the caller's VM lock serialises).
 *
 * Errors: INVALID_ARGUMENT (missing path, not a work tree, bare repository, submodules in
 * shallow mode, bad guest path, branch or revision), USAGE (`from` without `branch`), NO_SPACE
 * (checked before sending, and if the guest disk fills up anyway), WORKSPACE_FAILED (guest
 * lacks tar or git, a guest command failed), VM_SSH_UNAVAILABLE / VM_HOST_KEY_MISMATCH,
 * SUBPROCESS_FAILED (host git or tar), INTERRUPTED (`signal`). Guest scripts time out after
 * 120 s; the copy itself has no deadline but dies with a dead connection (ssh keep-alives, 60 s).
 */
export function prepareWorkspace(opts: PrepareWorkspaceOptions): Promise<WorkspaceResult> {
  return prepareImpl(opts);
}

/**
 * The changes in the guest workspace against `baseCommit` (null: against the empty tree) as a
 * binary patch (`git diff --binary`), untracked not-ignored files included, deletions and mode
 * changes too. It applies with `git apply` on a clean checkout of the base. Computed through a
 * temporary index (`GIT_INDEX_FILE`), so the guest repository's index, files and
 * `git status` are unchanged; read-only and repeatable. The bytes come from the guest and are
 * returned untouched: `git apply` is what checks them. Errors: INVALID_ARGUMENT (bad path or
 * commit), WORKSPACE_FAILED (not a repository, unknown base, patch over `maxPatchBytes`),
 * VM_SSH_UNAVAILABLE, INTERRUPTED. Guest commands time out after 120 s, the diff after 10 min.
 */
export function exportWorkspace(opts: ExportWorkspaceOptions): Promise<ExportResult> {
  return exportImpl(opts);
}
