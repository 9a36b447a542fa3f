#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian 12 machine (run as root): the Debian
# packages the tests start for real, then the npm packages from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests start for real (sshd and rclone are the SFTP and WebDAV test servers,
# started on their own ports by scripts/sftp-server.sh and scripts/webdav-server.sh; iproute2's
# `ip netns` and veth pairs make "another computer on the LAN" for the setup-code and HTTPS tests;
# openssl makes the HTTPS certificate and judges its fingerprint in the tests; exFAT through FUSE is the filesystem without hard links
# the snapshot tests refuse (this kernel may have no vfat); the stock restic
# judges the repositories Cairn writes: `restic check --read-data` and `restic restore` (and the zstd
# command the compression they use); wpasupplicant's
# wpa_passphrase judges the Wi-Fi key the appliance derives).
apt_packages=(rsync udev util-linux e2fsprogs dosfstools exfatprogs exfat-fuse psmisc procps tmux openssh-server openssh-client rclone iproute2 openssl restic zstd wpasupplicant)
if [ ${#apt_packages[@]} -gt 0 ]; then
  missing=()
  for package in "${apt_packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    # Packages must not start their services (a system sshd on port 22): without a policy-rc.d
    # (containers usually have one), install one that denies every start for the duration.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy"
      chmod 755 "$policy"
      trap 'rm -f "$policy"' EXIT
    fi
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

npm ci --no-audit --no-fund
