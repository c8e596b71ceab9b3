#!/usr/bin/env bash
# Fails when a component includes a header of a component above it or beside
# it, or a header that storage/ keeps to itself. The rules are in
# scripts/layout_rules.txt (the top-level CMakeLists.txt checks target links
# against the same file). tests/ and bench/ are exempt.
#
# Usage: scripts/check_layout.sh [SOURCE_ROOT]   (default: this repository)
# Exit status: 0 clean, 1 violations (each printed as file:line), 2 usage error.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="${1:-$here/..}"
rules="${VIGIL_LAYOUT_RULES:-$here/layout_rules.txt}"
[ -d "$root" ] || { echo "check_layout: no such directory: $root" >&2; exit 2; }
[ -f "$rules" ] || { echo "check_layout: no rules file: $rules" >&2; exit 2; }

exec python3 - "$root" "$rules" <<'PY'
import os, re, sys

root, rules_path = sys.argv[1], sys.argv[2]

allowed = {}       # component -> set of components it may include
internal = {}      # owning component -> set of its internal headers
for n, raw in enumerate(open(rules_path, encoding="utf-8"), 1):
    line = raw.split("#", 1)[0].strip()
    if not line:
        continue
    key, sep, rest = line.partition(":")
    if not sep:
        sys.exit(f"check_layout: {rules_path}:{n}: expected 'component: deps...'")
    key, deps = key.strip(), rest.split()
    if key.startswith("internal "):
        internal.setdefault(key.split(None, 1)[1], set()).update(deps)
    else:
        allowed[key] = set(deps) | {key}

# Longest folder first, so storage/wal/x.h belongs to storage/wal, not storage.
components = sorted(allowed, key=len, reverse=True)
exempt = ("tests", "bench")
top_level = {c.split("/")[0] for c in components} | set(exempt)

def component_of(path):
    for c in components:
        if path == c or path.startswith(c + "/"):
            return c
    first = path.split("/", 1)[0]
    return first if first in exempt else None

include_re = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
sources = (".h", ".hh", ".hpp", ".cc", ".cpp", ".inc")
violations = 0
scanned = 0

def report(rel, lineno, inc, why):
    global violations
    violations += 1
    print(f'{rel}:{lineno}: #include "{inc}": {why}')

for top in sorted({c.split("/")[0] for c in components}):
    base_dir = os.path.join(root, top)
    if not os.path.isdir(base_dir):
        continue
    for dirpath, dirnames, filenames in os.walk(base_dir):
        dirnames[:] = sorted(d for d in dirnames if d != "node_modules" and not d.startswith("."))
        for name in sorted(filenames):
            if not name.endswith(sources):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            owner = component_of(rel)
            scanned += 1
            with open(full, encoding="utf-8", errors="replace") as f:
                for lineno, text in enumerate(f, 1):
                    m = include_re.match(text)
                    if not m:
                        continue
                    inc = m.group(1)
                    target = component_of(inc)
                    if target is None:
                        if inc.split("/", 1)[0] not in top_level:
                            report(rel, lineno, inc,
                                   "quoted includes name a path from the repository root "
                                   "(system and third-party headers use <...>)")
                        else:
                            report(rel, lineno, inc, f"{owner} may include only "
                                   + ", ".join(sorted(allowed[owner])))
                        continue
                    if target in exempt:
                        report(rel, lineno, inc,
                               f"{owner} is production code and may not include {target}/")
                        continue
                    if target not in allowed[owner]:
                        report(rel, lineno, inc,
                               f"{owner} may include only "
                               + ", ".join(sorted(allowed[owner]))
                               + f" ({target} is not below {owner})")
                        continue
                    for comp, headers in internal.items():
                        if inc in headers and owner != comp and not owner.startswith(comp + "/"):
                            report(rel, lineno, inc,
                                   f"internal to {comp}/; use its public headers")

if violations:
    print(f"check_layout: {violations} violation(s) in {scanned} files "
          f"(rules: scripts/layout_rules.txt)", file=sys.stderr)
    sys.exit(1)
print(f"check_layout: {scanned} files, dependency direction ok")
PY
