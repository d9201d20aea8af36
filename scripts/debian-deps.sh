#!/usr/bin/env bash
# Install the Debian packages envtrace needs that pip cannot bring, if they are missing.
# Usage: scripts/debian-deps.sh [venv] [cjk-font] [chromium]
# As root: installs what is missing with apt-get. Otherwise: prints the one apt-get line to run
# and exits 1. On a machine without dpkg/apt (not Debian) it only warns.
set -euo pipefail
PY=${PY:-python3}
missing=()
for need in "$@"; do
  case "$need" in
    venv)
      "$PY" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv) ;;
    cjk-font)
      if ! (command -v fc-list >/dev/null && fc-list :lang=zh family | grep -qi .); then
        missing+=(fonts-noto-cjk)
      fi ;;
    chromium)
      command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    *) echo "debian-deps: unknown need '$need'" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "warning: not a Debian system; please install the equivalent of: ${missing[*]}" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing Debian packages. Run this once, then re-run make:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
