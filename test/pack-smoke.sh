#!/usr/bin/env bash
# The npm package as a user gets it: `npm pack`, a global install into a scratch prefix, and a first run
# in an empty folder. Also an install with install scripts blocked (npm 12's default), which must report
# the missing better-sqlite3 binding with its remedy instead of a stack trace.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() { # name, command...
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); echo "  ok   $name"; else failed=$((failed + 1)); echo "  FAIL $name"; fi
}

npm pack --silent --pack-destination "$work" >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; exit 1; }
tgz=$(ls "$work"/laundry-ops-*.tgz)
echo "packed $(basename "$tgz") ($(du -k "$tgz" | cut -f1) KiB)"
check "the tarball ships the oclif manifest" bash -c "tar tzf '$tgz' | grep -qx 'package/oclif.manifest.json'"
check "the tarball ships no tests or sources" bash -c "! tar tzf '$tgz' | grep -qE '^package/(test|src)/'"

npm install -g --prefix "$work/prefix" "$tgz" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
bin="$work/prefix/bin/laundry-ops"
mkdir "$work/empty"
cd "$work/empty"
check "--version" bash -c "'$bin' --version | grep -q '^laundry-ops/'"
check "db fresh --seed in an empty folder" bash -c "'$bin' db fresh --seed >/dev/null"
check "db status --json: nothing pending" bash -c "'$bin' db status --json | node -e 'const s=JSON.parse(require(\"fs\").readFileSync(0,\"utf8\")); process.exit(s.pending.length===0 && s.migrations.length===13 ? 0 : 1)'"
check "the database is in ./storage" test -f "$work/empty/storage/database.sqlite"
cd - >/dev/null

npm install -g --ignore-scripts --prefix "$work/noscripts" "$tgz" >"$work/install2.log" 2>&1 || { cat "$work/install2.log"; exit 1; }
mkdir "$work/empty2"
cd "$work/empty2"
set +e
# The quick start's first command: it needs the native binding (a command on a missing database says
# DB_NOT_FOUND before it loads the driver).
"$work/noscripts/bin/laundry-ops" db fresh --seed >"$work/out.txt" 2>"$work/err.txt"
code=$?
set -e
check "blocked install scripts: exit 1" test "$code" -eq 1
check "blocked install scripts: one line naming the remedy" bash -c "[ \$(wc -l <'$work/err.txt') -eq 1 ] && grep -q 'npm rebuild better-sqlite3' '$work/err.txt'"
check "blocked install scripts: no database file created" test ! -e "$work/empty2/storage/database.sqlite"
check "blocked install scripts: --help still works" bash -c "'$work/noscripts/bin/laundry-ops' --help >/dev/null"
cat "$work/err.txt"
echo "pack smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
