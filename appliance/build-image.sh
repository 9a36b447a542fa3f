#!/usr/bin/env bash
# Builds a bootable Raspberry Pi (arm64: Pi 3, 4, 400, Zero 2 W) image of Debian 12 with Cairn
# installed and enabled, from Debian's packages alone (mmdebstrap + qemu-user-static). Run as root.
#
#   appliance/build-image.sh [--out dist/cairn-rpi-arm64.img] [--mirror URL] [--reuse-base]
#
# --reuse-base: take the installed packages from the last build's cache (dist/.cache/rootfs-*.tar,
# keyed by the package list, essential.sh and the mirror) and only redo Cairn's part: minutes instead
# of the long package install under emulation. Without it the packages are fetched again (security fixes).
#
# The image: partition 1 FAT32 "RASPIFIRM" (firmware, kernel, config.txt, cmdline.txt), partition 2
# ext4 "RASPIROOT" (the system). No loop mounts are needed: the FAT side is written with mtools and
# the ext4 side with mkfs.ext4 -d. First boot makes the SSH host keys and prints how to go on;
# the login is user "cairn", password "cairn", which must be changed at the first login.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

out=dist/cairn-rpi-arm64.img
mirror=http://deb.debian.org/debian
reuse_base=no
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?}; shift ;;
    --mirror) mirror=${2:?}; shift ;;
    --reuse-base) reuse_base=yes ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }

# The arm64 cross libraries let the arm64 Node write the binary's code cache (scripts/build-binary.mjs).
packages=(mmdebstrap arch-test qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross dosfstools mtools e2fsprogs fdisk)
missing=()
for package in "${packages[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# arm64 programs (the packages' install scripts) run through qemu: register it when no one has.
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  printf '%s' ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:F' >/proc/sys/fs/binfmt_misc/register
fi

# Always from the current source: an older binary in dist/ would put old code in the image.
node scripts/build-binary.mjs --arch arm64

work=$(mktemp -d /var/tmp/cairn-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs

# The system. raspi-firmware puts the kernel, initrd and device trees on the FAT partition and writes
# cmdline.txt from /etc/default/raspi-firmware, which essential.sh sets before it is installed (and
# force-confold keeps that file rather than asking). The appliance's own services (issue 18): avahi
# for cairn.local and the API's DNS-SD record, timesyncd for the clock, wpasupplicant for Wi-Fi,
# unattended-upgrades for Debian's security fixes, tmux for long SSH sessions.
include=systemd-sysv,udev,openssh-server,rsync,util-linux,openssl,e2fsprogs,dosfstools,exfatprogs,ca-certificates,iproute2,sudo,linux-image-arm64,raspi-firmware,firmware-brcm80211,wpasupplicant,avahi-daemon,avahi-utils,libnss-mdns,systemd-timesyncd,unattended-upgrades,tmux
# The packages stage is kept as a tar so --reuse-base can skip it: its key is all that shapes it.
base_key=$(printf '%s\n' "$include" "$mirror" "$(cat appliance/essential.sh)" | sha256sum | cut -c1-16)
base_tar=dist/.cache/rootfs-$base_key.tar
if [ "$reuse_base" = yes ] && [ -s "$base_tar" ]; then
  echo "packages: reusing $base_tar"
else
  mkdir -p dist/.cache
  rm -f dist/.cache/rootfs-*.tar
  mmdebstrap \
    --architectures=arm64 \
    --components=main,non-free-firmware \
    --variant=important --format=tar \
    --include="$include" \
    --dpkgopt=force-confold \
    --essential-hook="$PWD/appliance/essential.sh \"\$1\"" \
    bookworm "$base_tar.partial" "$mirror"
  mv "$base_tar.partial" "$base_tar"
fi
mkdir -p "$rootfs"
tar --extract --preserve-permissions --numeric-owner --xattrs --xattrs-include='*' --file "$base_tar" --directory "$rootfs"
"$PWD/appliance/customize.sh" "$rootfs"

# Partitions: 256 MiB firmware, then the system with room to grow (it can be enlarged after flashing).
boot_mib=256
root_mib=$(( $(du -sm --exclude=./boot/firmware "$rootfs" | cut -f1) * 13 / 10 + 512 ))
boot_img=$work/boot.img
root_img=$work/root.img

mkfs.vfat -C -F 32 -n RASPIFIRM "$boot_img" $((boot_mib * 1024)) >/dev/null
mcopy -s -i "$boot_img" "$rootfs"/boot/firmware/* ::/
rm -rf "${rootfs:?}"/boot/firmware/*
mkfs.ext4 -q -L RASPIROOT -d "$rootfs" "$root_img" "${root_mib}M"

mkdir -p "$(dirname "$out")"
rm -f "$out"
truncate -s $(( (1 + boot_mib + root_mib) * 1024 * 1024 )) "$out"
sfdisk --quiet "$out" <<EOF
label: dos
start=1MiB, size=${boot_mib}MiB, type=c, bootable
start=$((1 + boot_mib))MiB, type=83
EOF
dd if="$boot_img" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$root_img" of="$out" bs=1M seek=$((1 + boot_mib)) conv=notrunc,sparse status=none

echo
echo "Built $out in $(( $(date +%s) - started )) s: $(du -h --apparent-size "$out" | cut -f1) ($(du -h "$out" | cut -f1) on disk)"
sfdisk -l "$out"
echo "Flash it with: xz -T0 -k $out && (Raspberry Pi Imager: 'Use custom') — see docs/APPLIANCE.md"
