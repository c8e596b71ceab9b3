#!/usr/bin/env bash
# Fails when C++ lines changed since a base revision are not formatted as
# .clang-format says (clang-format --dry-run -Werror). Only what changed is
# checked, never the whole tree: by default the changed lines of each changed
# file (--lines ranges from `git diff -U0`); VIGIL_FORMAT_WHOLE_FILES=1 checks
# the changed files whole.
#
# Base revision, first that applies:
#   $VIGIL_FORMAT_BASE            any revision git understands
#   merge-base of HEAD and origin/main, when origin/main exists and is not HEAD
#   HEAD~1                        (the last commit, plus uncommitted changes)
# With none of these (a fresh clone of depth 1, a tarball) the check is skipped
# with a message and succeeds: there is nothing to compare against.
#
# Usage: scripts/check_format.sh [REPO_DIR]   Fix with: git clang-format <base>
set -euo pipefail
repo="${1:-$(dirname "$0")/..}"
cd "$repo"
cd "$(git rev-parse --show-toplevel 2>/dev/null || pwd)"
clang_format="${CLANG_FORMAT:-clang-format}"

if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check_format: $(pwd) is not a git work tree; format check skipped"
  exit 0
fi
if ! command -v "$clang_format" >/dev/null 2>&1; then
  echo "check_format: $clang_format not found (scripts/install-deps.sh installs clang-format)" >&2
  exit 2
fi

commit_exists() { git rev-parse --verify -q "$1^{commit}" >/dev/null 2>&1; }

base=""
why=""
if [ -n "${VIGIL_FORMAT_BASE:-}" ]; then
  if ! commit_exists "$VIGIL_FORMAT_BASE"; then
    echo "check_format: VIGIL_FORMAT_BASE=$VIGIL_FORMAT_BASE is not a revision here" >&2
    exit 2
  fi
  base="$VIGIL_FORMAT_BASE"
  why="VIGIL_FORMAT_BASE"
elif commit_exists origin/main && mb="$(git merge-base HEAD origin/main 2>/dev/null)" &&
  [ "$mb" != "$(git rev-parse HEAD)" ]; then
  base="$mb"
  why="merge-base with origin/main"
elif commit_exists HEAD~1; then
  base="HEAD~1"
  why="last commit"
else
  echo "check_format: no base revision (no origin/main, HEAD has no parent: a shallow or" \
    "single-commit clone?); format check skipped. Set VIGIL_FORMAT_BASE or fetch more history."
  exit 0
fi

# "path first:last first:last ..." for every changed C++ file, from the +c,d
# of each hunk header (d = 0 is a pure deletion: nothing to check).
changes="$(git diff -U0 --no-color --no-ext-diff -M --diff-filter=ACMR "$base" -- \
  '*.h' '*.hh' '*.hpp' '*.cc' '*.cpp' |
  awk '
    /^\+\+\+ / { if (file != "") print file ranges; file = substr($0, 7); ranges = ""; next }
    /^@@ / {
      split($3, plus, ","); start = substr(plus[1], 2); count = (2 in plus) ? plus[2] : 1
      if (count > 0) ranges = ranges " " start ":" (start + count - 1)
    }
    END { if (file != "") print file ranges }')"

short_base="$(git rev-parse --short "$base")"
if [ -z "$changes" ]; then
  echo "check_format: no C++ changes since $short_base ($why)"
  exit 0
fi

status=0
files=0
while read -r file ranges; do
  [ -f "$file" ] || continue
  files=$((files + 1))
  args=()
  if [ "${VIGIL_FORMAT_WHOLE_FILES:-0}" != "1" ]; then
    [ -n "$ranges" ] || continue
    for r in $ranges; do args+=("--lines=$r"); done
  fi
  "$clang_format" --dry-run -Werror --style=file "${args[@]}" "$file" || status=1
done <<<"$changes"

if [ "$status" -ne 0 ]; then
  echo "check_format: changed lines not clang-formatted (base $short_base, $why);" \
    "fix them with: git clang-format $short_base" >&2
  exit 1
fi
echo "check_format: $files changed C++ file(s) since $short_base ($why) are formatted"
