#!/usr/bin/env bash
# Boots the appliance image under qemu-system-aarch64 -M virt, waits for Cairn's health check (proof
# that the image's kernel, initrd, root filesystem, systemd units and Cairn itself come up), then
# runs issue 18's checks inside the guest (appliance/test/guest-checks.sh): Wi-Fi from the boot
# partition, avahi and DNS-SD, time sync, journald and mount options, security upgrades, the first
# boot message, `ssh backup@` into the TUI through tmux, an update with a broken binary rolled back
# by install.sh, and the writes to the root filesystem over 10 idle minutes.
# The Pi's own boot firmware cannot be emulated here, so the kernel and initrd are taken from the
# image's firmware partition and given to qemu directly; everything after that is the image's own.
# Only a copy of the image is booted; the checks are put into that copy (debugfs), never the image.
#
#   appliance/boot-test.sh [dist/cairn-rpi-arm64.img]      (root; long: the CPU is emulated)
#   CAIRN_BOOT_TEST_CHECKS=no          health only (a few minutes)
#   CAIRN_BOOT_TEST_IDLE_SECONDS=600   how long the idle-writes measure lasts
#   CAIRN_BOOT_TEST_TIMEOUT=3600       the longest the whole boot and checks may take
#   CAIRN_BOOT_TEST_CONSOLE=FILE       keep the guest's whole console log there (it is removed otherwise)
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-dist/cairn-rpi-arm64.img}
port=${CAIRN_BOOT_TEST_PORT:-18080}
[ -f "$image" ] || { echo "no image at $image: run appliance/build-image.sh" >&2; exit 1; }
checks=${CAIRN_BOOT_TEST_CHECKS:-yes}
idle_seconds=${CAIRN_BOOT_TEST_IDLE_SECONDS:-600}
for package in qemu-system-arm mtools curl e2fsprogs fdisk; do
  dpkg -s "$package" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package"
done

work=$(mktemp -d)
qemu_pid=""
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
  [ -n "${CAIRN_BOOT_TEST_CONSOLE:-}" ] && [ -f "$work/console.log" ] && cp "$work/console.log" "$CAIRN_BOOT_TEST_CONSOLE"
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

if [ "$checks" = yes ]; then
  # What an owner writes on the card from another computer: Wi-Fi for the first boot (no radio under
  # qemu: the checks look at the configuration it became, and at the boot partition).
  printf 'ssid=Cairn Boot Test\r\npsk=boot test passphrase\r\ncountry=gb\r\n' >"$work/cairn-wifi.txt"
  mcopy -i "$firmware" "$work/cairn-wifi.txt" ::/cairn-wifi.txt
  # The checks, and a unit that runs them once the box is up, into the copy's root filesystem.
  read -r root_start root_sectors < <(partx -g -o START,SECTORS -n 2 "$work/disk.img")
  dd if="$work/disk.img" of="$work/root.img" bs=512 skip="$root_start" count="$root_sectors" conv=sparse status=none
  echo "CAIRN_BOOT_TEST_IDLE_SECONDS=$idle_seconds" >"$work/env"
  debugfs -w -f - "$work/root.img" >/dev/null <<EOF
mkdir /usr/local/lib/cairn-test
write appliance/test/guest-checks.sh /usr/local/lib/cairn-test/guest-checks.sh
sif /usr/local/lib/cairn-test/guest-checks.sh mode 0100755
write $work/env /usr/local/lib/cairn-test/env
write appliance/test/cairn-boot-checks.service /etc/systemd/system/cairn-boot-checks.service
symlink /etc/systemd/system/multi-user.target.wants/cairn-boot-checks.service /etc/systemd/system/cairn-boot-checks.service
EOF
  debugfs -R 'stat /usr/local/lib/cairn-test/guest-checks.sh' "$work/root.img" 2>/dev/null | grep -q 'Mode:  0755' || { echo "could not put the checks into the image copy" >&2; exit 1; }
  dd if="$work/root.img" of="$work/disk.img" bs=512 seek="$root_start" conv=notrunc,sparse status=none
  rm -f "$work/root.img"
fi
echo "booting $kernel with $initrd …"

qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 -nographic -no-reboot \
  -kernel "$work/vmlinuz" -initrd "$work/initrd" \
  -append "root=LABEL=RASPIROOT rw console=ttyAMA0 panic=-1" \
  -drive "file=$work/disk.img,format=raw,if=virtio" \
  -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:8080" -device virtio-net-pci,netdev=net0,romfile= \
  >"$work/console.log" 2>&1 &
qemu_pid=$!

started=$(date +%s)
deadline=$((started + ${CAIRN_BOOT_TEST_TIMEOUT:-3600}))
while :; do
  # HTTPS: QEMU's port forward reaches the daemon from 10.0.2.2, another computer to it, and plain HTTP
  # is served to the box only. -k: the certificate is the one the box made at first boot (not known here).
  if answer=$(curl -fsSk --max-time 5 "https://127.0.0.1:$port/api/system/health" 2>/dev/null); then
    echo "healthy after $(( $(date +%s) - started )) s: $answer"
    grep -E "root filesystem grown|Cairn is installed|ssh cairn@|setup code [A-Z2-9]{4}-|cairn-wifi:" "$work/console.log" | head -n 8 || true
    break
  fi
  if ! kill -0 "$qemu_pid" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
    echo "Cairn did not answer; the console said:" >&2
    tail -n 60 "$work/console.log" >&2
    exit 1
  fi
  sleep 5
done

[ "$checks" = yes ] || exit 0
# The checks print to the console as they go; the last line says how many passed and failed.
echo "checks running in the guest (the idle measure alone takes $idle_seconds s) …"
shown=0
while :; do
  lines=$(grep -aE '^(\[[^]]*\] )?([A-Za-z0-9_.@-]+\[[0-9]+\]: )?(CHECK|MEASURE|CHECKS) ' "$work/console.log" | tr -d '\r' | sed -E 's/^.*((CHECK|MEASURE|CHECKS) )/\1/' || true)
  count=$(printf '%s' "$lines" | grep -c . || true)
  if [ "$count" -gt "$shown" ]; then
    printf '%s\n' "$lines" | tail -n +"$((shown + 1))"
    shown=$count
  fi
  if done_line=$(printf '%s\n' "$lines" | grep -a '^CHECKS DONE'); then
    case "$done_line" in *" fail=0") exit 0 ;; *) exit 1 ;; esac
  fi
  if ! kill -0 "$qemu_pid" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
    echo "the checks did not finish; the console said:" >&2
    tail -n 60 "$work/console.log" >&2
    exit 1
  fi
  sleep 10
done
