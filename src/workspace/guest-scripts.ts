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

/**
 * $1 workspace, $2 staging, $3 aside, $4 commit or "", $5 ref for HEAD or "" (detached),
 * $6 `overlay` (keep the files sent) or `clean` (check the commit out), $7 user.name,
 * $8 user.email. The commit's objects are in already; it is recorded as shallow.
 */
export const FINISH_SHALLOW = `set -eu
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
${SWAP}`;

/**
 * $1 workspace, $2 staging, $3 aside, $4 branch or "", $5 its start commit or "",
 * $6 user.name, $7 user.email. The identity is skipped when the guest has no git.
 */
export const FINISH_FULL_COPY = `set -eu
cd -- "$2"
if [ -n "$4" ]; then
  if [ -n "$5" ]; then git checkout -q -b "$4" "$5"; else git checkout -q -b "$4"; fi
fi
if command -v git >/dev/null 2>&1 && [ -d .git ]; then
  if [ -n "$6" ]; then git config user.name "$6"; fi
  if [ -n "$7" ]; then git config user.email "$7"; fi
fi
${SWAP}`;
