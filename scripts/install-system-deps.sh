#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/system-deps.txt that are missing, or
# only the packages named as arguments (scripts/setup.sh --cluster: postgresql-15).
# Needs root (or passwordless sudo) only when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
wanted() { if [ $# -gt 0 ]; then printf '%s\n' "$@"; else cat scripts/system-deps.txt; fi; }
while read -r pkg; do
  pkg="${pkg%%#*}"; pkg="${pkg// /}"
  [ -z "$pkg" ] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done < <(wanted "$@")
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
echo "== apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
