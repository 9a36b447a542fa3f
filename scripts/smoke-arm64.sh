#!/usr/bin/env bash
# The arm64 binary through the same end-to-end tests as the x64 one (test/e2e/binary.test.ts), run
# under qemu-aarch64-static with Debian's arm64 cross libraries. Slow (minutes); not part of npm test.
# Needs root for apt-get. Usage: scripts/smoke-arm64.sh
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross tmux)
missing=()
for package in "${packages[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
CAIRN_BINARY_ARCH=arm64 node --import tsx test/e2e/binary.test.ts
