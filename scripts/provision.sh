#!/usr/bin/env bash
# Installs the Debian packages the tests need (and the Tryton 7.0 root file system), when missing and when we can (root on Debian).
# Without root or apt, it only reports; the suites then skip loudly, or fail when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/trytond ] || need+=(tryton-server tryton-modules-sale tryton-modules-account-invoice)
if [ ${#need[@]} -eq 0 ]; then
  echo "provision: chromium and trytond present"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "provision: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "provision: MISSING ${need[*]} (not root or no apt-get); dependent suites will skip" >&2
  [ "${CI:-}" = "true" ] && { echo "provision: CI=true, missing packages are a failure" >&2; exit 1; }
fi

# Tryton 7.0 LTS with PostgreSQL 17: a Debian 13 root file system, built once per machine
# (about 2.5 minutes; scripts/tryton.sh, docs/tryton-versions.md).
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  start=$(date +%s)
  TRYTON_FLAVOUR=7.0-postgresql bash scripts/tryton.sh install
  echo "provision: Tryton 7.0 root file system ready ($(($(date +%s) - start)) s)"
else
  echo "provision: cannot build the Tryton 7.0 root file system (needs root and apt-get); its suites will skip" >&2
  [ "${CI:-}" = "true" ] && { echo "provision: CI=true, a missing Tryton 7.0 is a failure" >&2; exit 1; }
fi
exit 0
