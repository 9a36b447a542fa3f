#!/bin/sh
# Wi-Fi without a screen: turns a file the owner wrote on the FAT boot partition into the network
# configuration the image uses (wpa_supplicant for wlan0, systemd-networkd for its address), then
# takes the passphrase off the boot partition, which any computer can read.
#
#   wifi-setup.sh [--boot DIR] [--root DIR]     (defaults /boot/firmware and /; run at every boot)
#
# The file, cairn-wifi.txt (plain text, one setting a line, '#' starts a comment; Windows line ends are fine):
#   ssid=My home network
#   psk=the passphrase            (8 to 63 characters; leave it out for an open network)
#   country=GB                    (the two-letter country code: which channels the radio may use)
# A value is everything after the first '='; quotes around it are dropped. Once applied, the file is
# renamed cairn-wifi.applied.txt with the passphrase line removed; write a new cairn-wifi.txt to
# change network. A wpa_supplicant.conf on the boot partition (what Raspberry Pi OS used to read) is
# taken as it is, and moved off the boot partition the same way.
# The passphrase is kept only as the key wpa_passphrase derives from it (WPA2-PSK), in a root-only file.
set -eu

boot=/boot/firmware
root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --boot) boot=${2:?--boot needs a folder}; shift ;;
    --root) root=${2:?--root needs a folder}; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

interface=wlan0
conf_dir=$root/etc/wpa_supplicant
conf=$conf_dir/wpa_supplicant-$interface.conf
request=$boot/cairn-wifi.txt
legacy=$boot/wpa_supplicant.conf

fail() {
  echo "cairn-wifi: $request: $1; nothing changed (fix the file and reboot)" >&2
  exit 1
}

# Writes the configuration beside its final place, readable by root only, then renames it (a power
# cut leaves the old network or the new one, never half a file), and turns wpa_supplicant on for
# the interface from now on. Not enabled in the image itself: on a box that only uses Ethernet it
# would wait for a Wi-Fi interface at every boot.
install_conf() { # FILE: the new content
  mkdir -p "$conf_dir" "$root/etc/systemd/system/multi-user.target.wants"
  (umask 077 && cp "$1" "$conf.new")
  sync "$conf.new" 2>/dev/null || sync
  mv "$conf.new" "$conf"
  ln -sf /lib/systemd/system/wpa_supplicant@.service "$root/etc/systemd/system/multi-user.target.wants/wpa_supplicant@$interface.service"
  if [ -z "$root" ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl --no-block restart "wpa_supplicant@$interface.service" || true
  fi
}

# The value of KEY in the request, with a byte-order mark, carriage returns and surrounding
# whitespace and quotes removed; empty when absent.
value_of() {
  sed -e '1s/^\xEF\xBB\xBF//' -e 's/\r$//' "$request" |
    sed -n "s/^[[:space:]]*$1[[:space:]]*=//Ip" | tail -n1 |
    sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# Removes FILE from the boot partition, its bytes first: deleting a file on FAT only frees its
# clusters, and the passphrase would stay on the card for any computer to read. Overwritten in place
# (same length, so the same clusters) and written out, then removed.
scrub() { # FILE
  size=$(wc -c <"$1")
  head -c "$size" /dev/zero | dd of="$1" conv=notrunc,fsync status=none
  rm -f "$1"
}

apply_request() {
  ssid=$(value_of ssid)
  psk=$(value_of psk)
  country=$(value_of country | tr '[:lower:]' '[:upper:]')
  [ -n "$ssid" ] || fail "no ssid= line"
  [ "$(printf '%s' "$ssid" | wc -c)" -le 32 ] || fail "the ssid is longer than 32 bytes"
  printf '%s' "$country" | grep -Eq '^[A-Z]{2}$' || fail "country= must be a two-letter code such as GB, US or DE"
  # The SSID as hex: any byte (quotes, '#', spaces) reaches wpa_supplicant unchanged, with no escaping.
  ssid_hex=$(printf '%s' "$ssid" | od -An -v -tx1 | tr -d ' \n')
  work=$(mktemp)
  trap 'rm -f "$work"' EXIT
  {
    echo "# Written by Cairn from cairn-wifi.txt on the boot partition; a new cairn-wifi.txt replaces it."
    echo "ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev"
    echo "update_config=0"
    echo "country=$country"
    echo "network={"
    echo "	ssid=$ssid_hex"
    if [ -n "$psk" ]; then
      length=$(printf '%s' "$psk" | wc -c)
      [ "$length" -ge 8 ] && [ "$length" -le 63 ] || fail "the passphrase (psk=) must be 8 to 63 characters"
      # Read from standard input, so the passphrase is never on a command line (ps shows those).
      key=$(printf '%s\n' "$psk" | wpa_passphrase "$ssid" | sed -n 's/^[[:space:]]*psk=\([0-9a-f]\{64\}\)$/\1/p')
      [ -n "$key" ] || fail "wpa_passphrase could not derive the key"
      echo "	psk=$key"
      echo "	key_mgmt=WPA-PSK WPA-PSK-SHA256"
    else
      echo "	key_mgmt=NONE"
    fi
    echo "	scan_ssid=1"
    echo "}"
  } >"$work"
  install_conf "$work"
  # What stays on the boot partition: the request without its passphrase, for the owner to see.
  # Read as value_of reads it (byte-order mark and carriage returns gone), so a psk= on a first line
  # behind a Windows editor's BOM is dropped too, not copied.
  sed -e '1s/^\xEF\xBB\xBF//' -e 's/\r$//' "$request" | grep -v -i '^[[:space:]]*psk[[:space:]]*=' >"$boot/cairn-wifi.applied.txt" || true
  scrub "$request"
  sync
  echo "cairn-wifi: Wi-Fi set to \"$ssid\" (country $country) on $interface; the passphrase was removed from the boot partition"
}

apply_legacy() {
  install_conf "$legacy"
  scrub "$legacy"
  sync
  echo "cairn-wifi: wpa_supplicant.conf from the boot partition applied to $interface and removed from it"
}

if [ -f "$request" ]; then
  apply_request
elif [ -f "$legacy" ]; then
  apply_legacy
fi
