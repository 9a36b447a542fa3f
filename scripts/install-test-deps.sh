#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian 12 machine (run as root): the Debian
# packages the tests start for real, then the npm packages from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests start for real.
apt_packages=(rsync udev util-linux e2fsprogs dosfstools psmisc procps tmux)
if [ ${#apt_packages[@]} -gt 0 ]; then
  missing=()
  for package in "${apt_packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

npm ci --no-audit --no-fund
