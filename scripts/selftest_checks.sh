#!/usr/bin/env bash
# Self-test of scripts/check_layout.sh and scripts/check_format.sh on small
# throw-away trees: each check must fail on what it exists to catch and pass
# on what it must allow. Needs git, python3 and clang-format; takes ~1 s.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect <wanted status> <text the output must contain> <command...>
expect() {
  local want="$1" needle="$2"
  shift 2
  local out status=0
  out="$("$@" 2>&1)" || status=$?
  if [ "$status" -ne "$want" ] || ! grep -qF -- "$needle" <<<"$out"; then
    echo "FAIL: $* -> status $status (want $want), output lacks '$needle':" >&2
    sed 's/^/    /' <<<"$out" >&2
    failures=$((failures + 1))
  else
    echo "ok: $needle"
  fi
}

# --- check_layout -----------------------------------------------------------
src="$tmp/layout"
put() { mkdir -p "$(dirname "$src/$1")" && printf '%s\n' "${@:2}" >"$src/$1"; }
put base/status.h '#pragma once' '#include <string>'
put storage/storage.h '#pragma once' '#include "base/status.h"'
put storage/db_layout.h '#pragma once' '#include "storage/storage.h"'
put storage/wal/wal.h '#pragma once' '#include "base/status.h"'
put rules/rule.h '#pragma once' '#include "storage/storage.h"'
put web/api.cc '#include "rules/rule.h"' '#include "storage/storage.h"'
put tests/anything_test.cc '#include "storage/db_layout.h"' '#include "web/api.cc"'
expect 0 "dependency direction ok" "$here/check_layout.sh" "$src"

put base/status.h '#pragma once' '' '#include "storage/storage.h"'
expect 1 'base/status.h:3: #include "storage/storage.h"' "$here/check_layout.sh" "$src"
put base/status.h '#pragma once'

put storage/wal/wal.h '#pragma once' '#  include "storage/storage.h"'
expect 1 'storage/wal/wal.h:2: #include "storage/storage.h": storage/wal may include only' \
  "$here/check_layout.sh" "$src"
put storage/wal/wal.h '#pragma once'

put rules/rule.h '#pragma once' '#include "scraper/scrape_loop.h"'
expect 1 "(scraper is not below rules)" "$here/check_layout.sh" "$src"
put rules/rule.h '#pragma once'

put web/api.cc '#include "storage/db_layout.h"'
expect 1 'web/api.cc:1: #include "storage/db_layout.h": internal to storage/' \
  "$here/check_layout.sh" "$src"
put web/api.cc '#include "storage/storage.h"'

put storage/tsdb.cc '#include "tests/support/memory_storage.h"'
expect 1 "storage is production code and may not include tests/" "$here/check_layout.sh" "$src"
rm "$src/storage/tsdb.cc"

put examples/demo/main.cc '#include "base/status.h"' '#include "examples/demo/demo.h"'
expect 0 "dependency direction ok" "$here/check_layout.sh" "$src"
put examples/demo/main.cc '#include "storage/storage.h"'
expect 1 "examples may include only base, examples" "$here/check_layout.sh" "$src"

# --- check_format -----------------------------------------------------------
repo="$tmp/format"
mkdir -p "$repo/base"
cp "$here/../.clang-format" "$repo/"
git() { command git -C "$repo" -c user.name=selftest -c user.email=selftest@localhost "$@"; }
git init -q
cat >"$repo/base/old.cc" <<'EOF'
int Old( int a ){return a;}

int Kept(int a) { return a; }
EOF
git add -A && git commit -qm one
expect 0 "format check skipped" "$here/check_format.sh" "$repo"

# A change to a formatted line of an untidy file: the untidy line is not ours.
sed -i 's/int Kept(int a) { return a; }/int Kept(int b) { return b; }/' "$repo/base/old.cc"
git commit -qam two
expect 0 "1 changed C++ file(s)" "$here/check_format.sh" "$repo"
expect 1 "code should be clang-formatted" \
  env VIGIL_FORMAT_WHOLE_FILES=1 "$here/check_format.sh" "$repo"

printf 'int  Badly(int a){\nreturn a;}\n' >"$repo/base/new.cc"
git add -A && git commit -qm three
expect 1 "base/new.cc:1:" "$here/check_format.sh" "$repo"
expect 0 "no C++ changes since" env VIGIL_FORMAT_BASE=HEAD "$here/check_format.sh" "$repo"

git branch -q main HEAD~1
git update-ref refs/remotes/origin/main main
printf 'int Good(int a) { return a; }\n' >"$repo/base/new.cc"
git commit -qam four
expect 0 "merge-base with origin/main" "$here/check_format.sh" "$repo"

if [ "$failures" -ne 0 ]; then
  echo "selftest_checks: $failures failure(s)" >&2
  exit 1
fi
echo "selftest_checks: all passed"
