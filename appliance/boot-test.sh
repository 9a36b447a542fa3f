#!/usr/bin/env bash
# Boots the appliance image under qemu-system-aarch64 -M virt and waits for Cairn's health check:
# proof that the image's kernel, initrd, root filesystem, systemd units and Cairn itself come up.
# The Pi's own boot firmware cannot be emulated here, so the kernel and initrd are taken from the
# image's firmware partition and given to qemu directly; everything after that is the image's own.
#
#   appliance/boot-test.sh [dist/cairn-rpi-arm64.img]      (root; takes minutes: the CPU is emulated)
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-dist/cairn-rpi-arm64.img}
port=${CAIRN_BOOT_TEST_PORT:-18080}
[ -f "$image" ] || { echo "no image at $image: run appliance/build-image.sh" >&2; exit 1; }
for package in qemu-system-arm mtools curl; do
  dpkg -s "$package" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package"
done

work=$(mktemp -d)
qemu_pid=""
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A copy, so the test boot does not change the image (first-boot keys, logs), on a disk 1 GiB
# bigger than the image, as a card is: the first boot grows the root filesystem into it.
cp --sparse=always "$image" "$work/disk.img"
truncate -s +1G "$work/disk.img"
firmware="$work/disk.img@@1M"
kernel=$(mdir -b -i "$firmware" ::/ | sed -n 's|^::/\(vmlinuz-[^ ]*\)$|\1|p' | sort -V | tail -n1)
initrd=$(mdir -b -i "$firmware" ::/ | sed -n 's|^::/\(initrd.img-[^ ]*\)$|\1|p' | sort -V | tail -n1)
[ -n "$kernel" ] && [ -n "$initrd" ] || { echo "no kernel or initrd on the firmware partition" >&2; mdir -i "$firmware" ::/ >&2; exit 1; }
mcopy -i "$firmware" "::/$kernel" "$work/vmlinuz"
mcopy -i "$firmware" "::/$initrd" "$work/initrd"
echo "booting $kernel with $initrd …"

qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 -nographic -no-reboot \
  -kernel "$work/vmlinuz" -initrd "$work/initrd" \
  -append "root=LABEL=RASPIROOT rw console=ttyAMA0 panic=-1" \
  -drive "file=$work/disk.img,format=raw,if=virtio" \
  -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:8080" -device virtio-net-pci,netdev=net0,romfile= \
  >"$work/console.log" 2>&1 &
qemu_pid=$!

started=$(date +%s)
deadline=$((started + ${CAIRN_BOOT_TEST_TIMEOUT:-1200}))
while :; do
  # HTTPS: QEMU's port forward reaches the daemon from 10.0.2.2, another computer to it, and plain HTTP
  # is served to the box only. -k: the certificate is the one the box made at first boot (not known here).
  if answer=$(curl -fsSk --max-time 5 "https://127.0.0.1:$port/api/system/health" 2>/dev/null); then
    echo "healthy after $(( $(date +%s) - started )) s: $answer"
    grep -E "root filesystem grown|Cairn is installed|ssh cairn@|setup code [A-Z2-9]{4}-" "$work/console.log" | head -n 5 || true
    exit 0
  fi
  if ! kill -0 "$qemu_pid" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
    echo "Cairn did not answer; the console said:" >&2
    tail -n 60 "$work/console.log" >&2
    exit 1
  fi
  sleep 5
done
