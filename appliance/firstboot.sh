#!/bin/sh
# First boot of a Cairn appliance: the root filesystem grown to the whole card, this box's own SSH
# host keys, then the next steps on the console (HDMI or serial) and in the journal, with the setup
# code that creating Cairn's owner account from another computer needs.
set -eu

# The image is as small as its contents; the card is bigger. Only the last partition can grow, into
# free space after it; anything else (already grown, another layout) is left as it is.
grow_root() {
  source=$(findmnt -no SOURCE /)
  name=$(basename "$source")
  [ -e "/sys/class/block/$name/partition" ] || return 0
  number=$(cat "/sys/class/block/$name/partition")
  disk=/dev/$(basename "$(readlink -f "/sys/class/block/$name/..")")
  echo ", +" | sfdisk --quiet --no-reread --no-tell-kernel -N "$number" "$disk" || return 0
  partx -u -n "$number" "$disk" || return 0
  resize2fs "$source" >/dev/null 2>&1 || return 0
  echo "root filesystem grown to $(df -h --output=size / | tail -n1 | tr -d ' ')"
}
grow_root || true

# The code Cairn writes to its data dir a moment after it starts (this unit runs after cairn.service),
# while no owner exists. Waits up to two minutes (a first start on a slow card); prints nothing if
# Cairn has not written one by then.
setup_code() {
  data_dir=$(sed -n 's/^CAIRN_DATA_DIR=//p' /etc/default/cairn 2>/dev/null | tail -n1)
  file=${data_dir:-/var/lib/cairn}/setup-code
  for _ in $(seq 120); do
    [ -s "$file" ] && { head -n1 "$file"; return 0; }
    sleep 1
  done
  return 1
}

ssh-keygen -A
touch /var/lib/cairn-firstboot.done
addresses=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v '^$' || true)
first=$(printf '%s\n' "$addresses" | head -n1)
show_code='`sudo cairn setup-code`'
if code=$(setup_code); then
  code_line="setup code $code ($show_code shows it again; a restart of Cairn makes a new one)."
else
  code_line="setup code that $show_code shows once Cairn runs."
fi
cat <<MSG

  Cairn is installed. This box is cairn.local (where mDNS works) and ${first:-<no address yet: connect Ethernet, or see docs/APPLIANCE.md for Wi-Fi>}
$(printf '%s\n' "$addresses" | sed -n '2,$s/^/    also /p')
  Next:
    ssh cairn@cairn.local                     (or ssh cairn@${first:-<address>}; password "cairn", you will be asked for a new one)
    cairn tui                                 (creates the owner account of the backup service, then shows the dashboard)
  Straight into the dashboard, with no shell: ssh backup@cairn.local, once you gave that account
  a key (/etc/ssh/cairn-tui-keys/backup) or a password (sudo passwd backup).
  The API (and a phone app) answers on https://cairn.local:8080 (pin the certificate fingerprint
  that \`sudo cairn fingerprint\` shows; plain HTTP is for this box only).
  To create the owner account from another computer or the phone app instead, give the
  $code_line

MSG
