#!/usr/bin/env bash
# mmdebstrap's essential hook for the appliance image: runs with the image root as $1 before the
# kernel and firmware packages are installed, to set what their install scripts read.
set -euo pipefail
root=${1:?the image root}
mkdir -p "$root/etc/default" "$root/etc/initramfs-tools"
# raspi-firmware writes cmdline.txt from this: the root filesystem by label, consoles on HDMI and serial.
printf 'ROOTPART=LABEL=RASPIROOT\nCONSOLES="tty0 ttyS1,115200"\n' >"$root/etc/default/raspi-firmware"
# The kernel's own install makes the initrd once; the later "update" trigger would make it again,
# which takes many minutes under emulation. customize.sh turns updates back on.
printf 'update_initramfs=no\nbackup_initramfs=no\n' >"$root/etc/initramfs-tools/update-initramfs.conf"
