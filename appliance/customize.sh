#!/usr/bin/env bash
# The appliance's own part of the image, applied by build-image.sh to the image's root folder ($1)
# after every package is installed: Cairn, the network (Ethernet, Wi-Fi from the boot partition),
# cairn.local, time, SD card care, security updates, the logins. Runs on the build machine; every
# path below is under $root (never the build machine's own /etc).
set -euo pipefail
root=${1:?the image root}
[ -d "$root/etc" ] && [ "$(realpath "$root")" != / ] || { echo "customize.sh: $root is not an image root" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)

# Cairn itself, as scripts/install.sh installs it on any Debian box (enabled, started at boot).
"$here/../scripts/install.sh" --root "$root" --binary "$here/../dist/cairn-linux-arm64" --no-apt --no-start
# The same script stays on the box to update Cairn in place, with a health check and a rollback:
#   sudo /usr/local/lib/cairn/install.sh --binary ./cairn-linux-arm64
install -D -m 0755 "$here/../scripts/install.sh" "$root/usr/local/lib/cairn/install.sh"
install -D -m 0644 "$here/../systemd/cairn.service" "$root/usr/local/lib/cairn/cairn.service"
# A Pi has no battery-backed clock: scheduled runs wait for network time (timesyncd, below).
printf '%s\n' '# Scheduled runs wait until the clock is set from the network (a Pi has no battery-backed clock):' \
  'CAIRN_WAIT_FOR_CLOCK_SYNC=true' >>"$root/etc/default/cairn"

# Kernel upgrades on the box make their initrd as usual (essential.sh held that off during the build).
printf 'update_initramfs=yes\nbackup_initramfs=no\n' >"$root/etc/initramfs-tools/update-initramfs.conf"

echo cairn >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tcairn\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"

# SD card care: no access-time writes; ext4 commits its journal every 5 minutes rather than 5 s
# (Cairn's store and the package manager fsync what must survive a power cut, so only unsynced
# writes of the last minutes can be lost); /tmp in memory.
printf '%s\n' \
  'LABEL=RASPIROOT  /               ext4  rw,noatime,commit=300  0 1' \
  'LABEL=RASPIFIRM  /boot/firmware  vfat  rw,noatime,umask=077   0 2' >"$root/etc/fstab"
systemctl --root="$root" enable /usr/share/systemd/tmp.mount
# The journal: kept across reboots (why did it stop last night?) but bounded, and written out every
# 15 minutes (journald writes an error or worse at once).
install -D -m 0644 "$here/journald.conf" "$root/etc/systemd/journald.conf.d/cairn.conf"

# Wired network by DHCP on whatever the interface is called (eth0, end0, enp…); Wi-Fi the same way
# once wifi-setup.sh has turned wpa_supplicant on from the owner's cairn-wifi.txt (docs/APPLIANCE.md).
mkdir -p "$root/etc/systemd/network"
printf '[Match]\nName=e*\n\n[Network]\nDHCP=yes\n' >"$root/etc/systemd/network/10-wired.network"
printf '[Match]\nName=wl*\n\n[Network]\nDHCP=yes\n' >"$root/etc/systemd/network/20-wireless.network"
systemctl --root="$root" enable systemd-networkd.service
install -D -m 0755 "$here/wifi-setup.sh" "$root/usr/local/lib/cairn/wifi-setup.sh"
install -D -m 0644 "$here/cairn-wifi.service" "$root/etc/systemd/system/cairn-wifi.service"
systemctl --root="$root" enable cairn-wifi.service

# Found by name: avahi answers cairn.local and publishes the API (advertise.sh, after Cairn starts).
install -D -m 0755 "$here/advertise.sh" "$root/usr/local/lib/cairn/advertise.sh"
install -D -m 0644 "$here/cairn-advertise.service" "$root/etc/systemd/system/cairn-advertise.service"
systemctl --root="$root" enable avahi-daemon.service cairn-advertise.service

# Time from the network (Debian's NTP pool).
systemctl --root="$root" enable systemd-timesyncd.service

# Debian's security fixes install themselves (unattended-upgrades' defaults: the security archive only).
printf '%s\n' \
  'deb http://deb.debian.org/debian bookworm main non-free-firmware' \
  'deb http://deb.debian.org/debian bookworm-updates main non-free-firmware' \
  'deb http://security.debian.org/debian-security bookworm-security main non-free-firmware' >"$root/etc/apt/sources.list"
printf '%s\n' 'APT::Periodic::Update-Package-Lists "1";' 'APT::Periodic::Unattended-Upgrade "1";' >"$root/etc/apt/apt.conf.d/20auto-upgrades"

# SSH host keys are made on the first boot, so no two boxes share them.
rm -f "$root"/etc/ssh/ssh_host_*
install -D -m 0755 "$here/firstboot.sh" "$root/usr/local/lib/cairn/firstboot.sh"
install -D -m 0644 "$here/cairn-firstboot.service" "$root/etc/systemd/system/cairn-firstboot.service"
systemctl --root="$root" enable cairn-firstboot.service ssh.service

# The owner's login; the password must be changed at the first login.
chroot "$root" useradd --create-home --shell /bin/bash --groups sudo cairn
echo 'cairn:cairn' | chroot "$root" chpasswd
chroot "$root" passwd --expire cairn >/dev/null

# SSH straight into the TUI: Debian's own "backup" account logs in to `cairn tui` and nothing else
# (sshd's ForceCommand, no forwarding); its keys are root's to give and its password unset until the
# owner sets one (docs/APPLIANCE.md). sshd runs the forced command through the login shell, so it
# needs one; no other command is ever run.
chroot "$root" usermod --shell /bin/sh backup
install -D -m 0644 "$here/sshd-tui.conf" "$root/etc/ssh/sshd_config.d/cairn-tui.conf"
install -d -m 0755 "$root/etc/ssh/cairn-tui-keys"

# Every SSH login says how to reach Cairn; the console's login prompt shows the box's address.
install -D -m 0644 "$here/profile.sh" "$root/etc/profile.d/cairn.sh"
printf '\nCairn backup appliance. Type "cairn tui" to open it.\n\n' >"$root/etc/motd"
printf '%s\n' 'Cairn backup appliance \n (\l)' '  ssh cairn@cairn.local  or  ssh cairn@\4    API: https://\4:8080' '' >"$root/etc/issue"
