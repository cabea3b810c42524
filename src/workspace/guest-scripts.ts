// Private: the POSIX sh scripts run in the guest. Every value reaches them as a positional
// argument, never spliced into the script text, so no file name can become shell code.

/** Exit status of BEGIN when a tool the workspace needs is missing in the guest. */
export const MISSING_TOOL_STATUS = 3;

/**
 * $1 workspace, $2 staging dir, $3 mode. Puts back a previous workspace that an interrupted
 * swap left aside, removes other leftovers, creates the staging dir and prints the free KiB.
 */
export const BEGIN = `set -eu
need() { command -v "$1" >/dev/null 2>&1 || { echo "$1 is not installed in the guest" >&2; exit 3; }; }
need tar
if [ "$3" = shallow ]; then need git; fi
parent=$(dirname -- "$1")
mkdir -p -- "$parent"
if [ ! -e "$1" ] && [ ! -L "$1" ]; then
  for old in "$1".banger-old-*; do
    if [ -d "$old" ]; then mv -- "$old" "$1"; break; fi
  done
fi
for stale in "$1".banger-tmp-* "$1".banger-old-*; do
  if [ -e "$stale" ] || [ -L "$stale" ]; then rm -rf -- "$stale"; fi
done
if [ "$3" = shallow ]; then git init -q -- "$2"; else mkdir -- "$2"; fi
df -Pk -- "$parent" | awk 'NR == 2 { print $4 }'
`;

// $1 workspace, $2 staging dir, $3 aside path. Run last, from the staging dir. Until the
// second mv, the previous workspace is whole (in place or aside, where BEGIN finds it).
const SWAP = `cd /
if [ -e "$1" ] || [ -L "$1" ]; then mv -- "$1" "$3"; fi
mv -- "$2" "$1"
rm -rf -- "$3"
`;

// Written last, so that its mtime is later than every change the prepare made: what changes
// after it is the guest's own doing (see PROBE). A prepare that fails before it leaves the
// previous stamp, which still describes the workspace; one that dies between the swap and the
// stamp leaves a tree newer than the stamp throughout, which the next prepare sends again; a
// stamp cut short names no token, and the next prepare sends everything. Needs $stamp, $token.
const STAMP = `if [ -n "$stamp" ]; then printf '%s\\n' "$token" > "$stamp"; fi
`;

// STAMP after a whole prepare, which also checks once for the GNU tools that PROBE and APPLY
// use, so that a repeated prepare does not pay for the check: without them the stamp holds
// why an update cannot be done instead of the token.
const STAMP_CHECKED = `if [ -n "$stamp" ]; then
  for tool in find tar cp stat; do
    if ! "$tool" --version 2>/dev/null | grep -q GNU; then
      token="unusable the guest has no GNU $tool"
      break
    fi
  done
fi
${STAMP}`;

/**
 * $1 workspace, $2 staging, $3 aside, $4 commit or "", $5 ref for HEAD or "" (detached),
 * $6 `overlay` (keep the files sent) or `clean` (check the commit out), $7 user.name,
 * $8 user.email, $9 stamp file or "", $10 its token. The commit's objects are in already; it
 * is recorded as shallow.
 */
export const FINISH_SHALLOW = `set -eu
stamp=$9 token=\${10}
cd -- "$2"
if [ -n "$4" ]; then
  printf '%s\\n' "$4" > "$(git rev-parse --git-path shallow)"
  if [ -n "$5" ]; then git update-ref "$5" "$4"; else git update-ref --no-deref HEAD "$4"; fi
fi
if [ -n "$5" ]; then git symbolic-ref HEAD "$5"; fi
if [ -n "$4" ]; then
  if [ "$6" = clean ]; then git reset -q --hard; else git reset -q; fi
fi
if [ -n "$7" ]; then git config user.name "$7"; fi
if [ -n "$8" ]; then git config user.email "$8"; fi
${SWAP}${STAMP_CHECKED}`;

/**
 * $1 workspace, $2 staging, $3 aside, $4 branch or "", $5 its start commit or "",
 * $6 user.name, $7 user.email, $8 stamp file or "", $9 its token. The identity is skipped when
 * the guest has no git.
 */
export const FINISH_FULL_COPY = `set -eu
stamp=$8 token=$9
cd -- "$2"
if [ -n "$4" ]; then
  if [ -n "$5" ]; then git checkout -q -b "$4" "$5"; else git checkout -q -b "$4"; fi
fi
if command -v git >/dev/null 2>&1 && [ -d .git ]; then
  if [ -n "$6" ]; then git config user.name "$6"; fi
  if [ -n "$7" ]; then git config user.email "$7"; fi
fi
${SWAP}${STAMP_CHECKED}`;

/** First line of PROBE's output when the workspace can be updated in place. */
export const PROBE_OK = "ok";

/**
 * $1 workspace, $2 stamp file. Prints one line: \`ok <token> <free KiB>\`, or \`unusable <why>\`
 * when only a whole prepare can do; after \`ok\`, every entry below the workspace as
 * \`<N|O><find %y> <path>\\0\`, N for an entry whose inode changed after the stamp was written.
 * Run on every repeated prepare, so it starts as few processes as it can: under emulation each
 * one costs tens of milliseconds (the GNU tools were checked when the stamp was written).
 */
export const PROBE = `set -u
unusable() { echo "unusable $1"; exit 0; }
if [ ! -d "$1" ] || [ -L "$1" ]; then unusable "there is no workspace at the guest path"; fi
if [ ! -f "$2" ]; then unusable "the guest has no record of the last prepare"; fi
for stale in "$1".banger-tmp-* "$1".banger-old-*; do
  if [ -e "$stale" ] || [ -L "$stale" ]; then unusable "an earlier prepare was interrupted"; fi
done
token=
IFS= read -r token < "$2" || true
case $token in "unusable "*) echo "$token"; exit 0 ;; esac
room=$(stat -f -c '%a %S' -- "$1") || exit 1
blocks=\${room% *} size=\${room#* }
printf '%s %s %s\\n' "${PROBE_OK}" "$token" "$((blocks * size / 1024))"
cd -- "$1" || exit 1
exec find . -mindepth 1 \\( -cnewer "$2" -printf 'N%y %P\\0' \\) -o -printf 'O%y %P\\0'
`;

/**
 * $1 workspace, $2 staging dir, $3 stamp file, $4 new token, $5 \`reset\` to reset the index
 * to HEAD (the guest's git refreshed it), $6 a commit to move HEAD to or "", $7 user.name,
 * $8 user.email (set again when \`.git/config\` is sent). Stdin is a tar of \`banger/remove\`
 * (NUL-separated paths), \`banger/files/...\` (with $6, the new objects as a pack under
 * \`.git/objects/pack/\`) and last \`banger/end\` holding the token. Nothing in the workspace
 * changes until all of it has arrived; from then on no signal stops the update, and it needs no
 * more room: the files are hard-linked into place.
 */
export const APPLY = `set -eu
trap 'rm -rf -- "$2"' EXIT
mkdir -- "$2"
tar -x -o -f - -C "$2"
end=
if [ -f "$2/banger/end" ]; then IFS= read -r end < "$2/banger/end" || true; fi
if [ "$end" != "$4" ]; then
  echo "the update arrived incomplete" >&2
  exit 1
fi
trap '' HUP INT TERM PIPE
cd -- "$1"
if [ -s "$2/banger/remove" ]; then xargs -0 rm -rf -- < "$2/banger/remove"; fi
# Hard links from the staging dir: no second copy of the bytes, one process for all files.
if [ -d "$2/banger/files" ]; then cp -a -l --remove-destination -- "$2/banger/files/." .; fi
# Added to the shallow commits, not in their place: the reflog still names the old ones.
if [ -n "$6" ]; then printf '%s\\n' "$6" >> .git/shallow; fi
if [ "$5" = reset ] || [ -n "$6" ]; then
  # Moves the branch HEAD names (or HEAD) and the index. The files' stat data waits for the
  # guest's next git status: refreshing 20,000 entries here would double the reset's time under
  # emulation. git before 2.36 has no --no-refresh, and does not refresh with -q.
  git reset -q --no-refresh "\${6:-HEAD}" -- 2>/dev/null || git reset -q "\${6:-HEAD}" --
fi
if [ -f "$2/banger/files/.git/config" ] && command -v git >/dev/null 2>&1; then
  if [ -n "$7" ]; then git config user.name "$7"; fi
  if [ -n "$8" ]; then git config user.email "$8"; fi
fi
# Before the stamp: dropping the staging links changes the linked files' ctime.
rm -rf -- "$2"
stamp=$3 token=$4
${STAMP}`;
