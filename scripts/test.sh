#!/usr/bin/env bash
# The README's test command: type check, lint, build, then every test suite.
# On a Debian machine as root it provisions what the suites need (Tryton, Chromium);
# elsewhere the suites say loudly what they skipped. With CI=true nothing may be skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s ===\n' "$*"; }

# The pack needs Node >= 22 (jsforce 3.10.26): an older Node on PATH is replaced by scripts/node.sh's.
if (($(node -p 'process.versions.node.split(".")[0]') < 22)); then
  echo "!!! $(node --version) on PATH is older than 22: using Node 22 from scripts/node.sh" >&2
  PATH="$(bash scripts/node.sh 22):$PATH"
  export PATH
fi
echo "node $(node --version)"

step "provision (Tryton 6.0 and 7.0 servers, Chromium)"
bash scripts/provision.sh

step "type check"
npm run --silent typecheck
step "lint"
npm run --silent lint
step "build"
npm run --silent build

step "unit and node tests"
npx mocha 'test/unit/**/*.spec.ts' 'test/nodes/**/*.spec.ts'
step "contract tests (simulators; real Tryton 6.0/SQLite here, 7.0/SQLite and 7.0/PostgreSQL in a second process beside it)"
# The real servers are separate single-threaded processes: two mocha runs side by side use both cores.
mkdir -p .tmp
TRYTON_FLAVOURS=7.0-sqlite,7.0-postgresql npx mocha 'test/contract/**/*.spec.ts' --grep 'real Tryton 7\.0' \
  >.tmp/contract-7.0.log 2>&1 &
contract7=$!
rc=0
TRYTON_FLAVOURS=6.0-sqlite npx mocha 'test/contract/**/*.spec.ts' || rc=$?
rc7=0
wait "$contract7" || rc7=$?
printf '\n--- contract tests, real Tryton 7.0 (ran beside the above; exit %s) ---\n' "$rc7"
cat .tmp/contract-7.0.log
[ "$rc" = 0 ] && [ "$rc7" = 0 ]
step "reliability tests (bad input, faults, crashes, security; SOAK_ORDERS scales them)"; npx mocha --timeout 600000 'test/reliability/**/*.spec.ts'
step "end-to-end tests (real Node-RED editor, headless Chromium)"
npx mocha --timeout 180000 'test/e2e/**/*.spec.ts'
