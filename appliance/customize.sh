#!/usr/bin/env bash
# mmdebstrap's customize hook for the appliance image: runs on the build machine with the image's
# root folder as $1, after every package is installed.
set -euo pipefail
root=${1:?the image root}
here=$(cd "$(dirname "$0")" && pwd)

# Cairn itself, as scripts/install.sh installs it on any Debian box (enabled, started at boot).
"$here/../scripts/install.sh" --root "$root" --binary "$here/../dist/cairn-linux-arm64" --no-apt --no-start

# Kernel upgrades on the box make their initrd as usual (essential.sh held that off during the build).
printf 'update_initramfs=yes\nbackup_initramfs=no\n' >"$root/etc/initramfs-tools/update-initramfs.conf"

echo cairn >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tcairn\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
cat >"$root/etc/fstab" <<'EOF'
LABEL=RASPIROOT  /               ext4  rw,noatime            0 1
LABEL=RASPIFIRM  /boot/firmware  vfat  rw,noatime,umask=077  0 2
EOF

# Wired network by DHCP on whatever the interface is called (eth0, end0, enp…).
mkdir -p "$root/etc/systemd/network"
cat >"$root/etc/systemd/network/10-wired.network" <<'EOF'
[Match]
Name=e*

[Network]
DHCP=yes
EOF
systemctl --root="$root" enable systemd-networkd.service

# SSH host keys are made on the first boot, so no two boxes share them.
rm -f "$root"/etc/ssh/ssh_host_*
install -D -m 0755 "$here/firstboot.sh" "$root/usr/local/lib/cairn/firstboot.sh"
install -D -m 0644 "$here/cairn-firstboot.service" "$root/etc/systemd/system/cairn-firstboot.service"
systemctl --root="$root" enable cairn-firstboot.service ssh.service

# The owner's login; the password must be changed at the first login.
chroot "$root" useradd --create-home --shell /bin/bash --groups sudo cairn
echo 'cairn:cairn' | chroot "$root" chpasswd
chroot "$root" passwd --expire cairn >/dev/null

# Every SSH login says how to reach Cairn.
install -D -m 0644 "$here/profile.sh" "$root/etc/profile.d/cairn.sh"
printf '\nCairn backup appliance. Type "cairn tui" to open it.\n\n' >"$root/etc/motd"
