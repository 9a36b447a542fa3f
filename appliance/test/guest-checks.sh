#!/bin/bash
# Runs INSIDE the booted appliance under qemu (boot-test.sh puts it into a copy of the image with a
# unit that starts it once the box is up); checks each item of issue 18's Tests section on the live
# system and prints one line per check on the console, which boot-test.sh reads:
#   CHECK PASS <name>: <detail>   |   CHECK FAIL <name>: <detail>   |   MEASURE <name>: <figures>
# and, last, CHECKS DONE pass=N fail=M. Not part of the image: only the test copy holds it.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=xterm-256color
idle_seconds=${1:-600}
passed=0
failed=0
say() { echo "$*"; }  # the unit sends it to the journal and the console
check() { # NAME DETAIL COMMAND...: passes when the command succeeds
  local name=$1 detail=$2
  shift 2
  if "$@" >/tmp/check.out 2>&1; then
    passed=$((passed + 1)); say "CHECK PASS $name: $detail"
  else
    failed=$((failed + 1)); say "CHECK FAIL $name: $detail — $(tr '\n' ' ' </tmp/check.out | cut -c1-400)"
  fi
}
# HTTP to the daemon on this box (plain HTTP is served to the box itself) with bash alone.
http() { # METHOD PATH [JSON]: prints the reply (status line, headers, body)
  local body=${3:-}
  exec 3<>/dev/tcp/127.0.0.1/8080 || return 1
  printf '%s %s HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %s\r\n\r\n%s' "$1" "$2" "${#body}" "$body" >&3
  cat <&3
  exec 3<&-
}
healthy_version() { http GET /api/system/health 2>/dev/null | sed -n 's/.*"version":"\([^"]*\)".*/\1/p'; }
wait_for() { # SECONDS COMMAND...
  local deadline=$(( $(date +%s) + $1 ))
  shift
  until "$@"; do [ "$(date +%s)" -lt "$deadline" ] || return 1; sleep 2; done
}
screen_has() { tmux capture-pane -p -t tui 2>/dev/null | grep -q -- "$1"; }

say "CHECKS START $(date -u +%FT%TZ)"
wait_for 600 test -n "$(healthy_version)" || say "CHECK FAIL health: Cairn did not answer in 10 minutes"
version=$(healthy_version)

# 1. Wi-Fi from the boot partition (boot-test.sh wrote cairn-wifi.txt there; no radio under qemu).
conf=/etc/wpa_supplicant/wpa_supplicant-wlan0.conf
ssid_hex=$(printf '%s' 'Cairn Boot Test' | od -An -v -tx1 | tr -d ' \n')
check wifi-config "wpa_supplicant for wlan0 written from cairn-wifi.txt (ssid as hex, derived key, country)" \
  sh -c "grep -qx '	ssid=$ssid_hex' $conf && grep -Eqx '	psk=[0-9a-f]{64}' $conf && grep -qx 'country=GB' $conf && [ \$(stat -c %a $conf) = 600 ]"
check wifi-enabled "wpa_supplicant@wlan0 enabled for later boots" systemctl is-enabled wpa_supplicant@wlan0.service
check wifi-passphrase-gone "no file on the boot partition holds the passphrase" \
  sh -c "! grep -rqF 'boot test passphrase' /boot/firmware && [ ! -e /boot/firmware/cairn-wifi.txt ] && grep -q 'ssid=Cairn Boot Test' /boot/firmware/cairn-wifi.applied.txt"
# Deleting a file on FAT leaves its bytes in the freed clusters, which anyone with the card reads:
# the partition itself, read past any cache, must not hold the passphrase either.
boot_device=$(findmnt -no SOURCE /boot/firmware)
check wifi-passphrase-scrubbed "the boot partition's raw sectors ($boot_device) do not hold the passphrase" \
  sh -c "sync && ! dd if=$boot_device iflag=direct bs=1M status=none | grep -aqF 'boot test passphrase'"
check wired-unchanged "Ethernet still by DHCP (the address this test reached the box on)" sh -c "ip -4 addr show | grep -q 'inet 10.0.2.15'"

# 2. Found by name: avahi publishes cairn.local and the API.
check avahi-running "avahi-daemon active" systemctl is-active avahi-daemon.service
check mdns-name "cairn.local resolves by mDNS" sh -c "avahi-resolve -4 -n cairn.local | grep -q '10.0.2.15'"
check dns-sd "avahi-browse finds _cairn._tcp on 8080 with product=Cairn and the fingerprint" \
  sh -c "wait_for() { for i in \$(seq 30); do \"\$@\" && return 0; sleep 2; done; return 1; }; wait_for sh -c 'avahi-browse -rtp _cairn._tcp | grep \"^=\" | grep \";8080;\" | grep \"product=Cairn\" | grep -q fingerprint_sha256='"
check dns-sd-https "avahi-browse finds _https._tcp on 8080 with path=/api" \
  sh -c "avahi-browse -rtp _https._tcp | grep '^=' | grep ';8080;' | grep 'product=Cairn' | grep -q 'path=/api'"
say "MEASURE dns-sd: $(avahi-browse -rtp _cairn._tcp 2>/dev/null | grep '^=' | head -n1)"

# 3. Time: timesyncd on, and Cairn waits for it.
check timesync-enabled "systemd-timesyncd enabled and NTP on" sh -c "systemctl is-enabled systemd-timesyncd.service && [ \"\$(timedatectl show -p NTP --value)\" = yes ]"
check clock-gate-on "CAIRN_WAIT_FOR_CLOCK_SYNC=true in /etc/default/cairn" grep -qx 'CAIRN_WAIT_FOR_CLOCK_SYNC=true' /etc/default/cairn
say "MEASURE clock: NTPSynchronized=$(timedatectl show -p NTPSynchronized --value) flag=$([ -e /run/systemd/timesync/synchronized ] && echo yes || echo no) $(journalctl -u cairn -o cat | grep -m1 -E 'clock is synchronised|wait until the system clock' || true)"

# 4. SD card care: journald bounded, mount options.
check journald-bounded "journald: SystemMaxUse=64M, SyncIntervalSec=15m" sh -c "systemd-analyze cat-config systemd/journald.conf | grep -qx 'SystemMaxUse=64M' && systemd-analyze cat-config systemd/journald.conf | grep -qx 'SyncIntervalSec=15m'"
check root-mount "root mounted noatime,commit=300; /tmp in memory" sh -c "findmnt -no OPTIONS / | grep -q noatime && findmnt -no OPTIONS / | grep -q commit=300 && [ \"\$(findmnt -no FSTYPE /tmp)\" = tmpfs ]"

# 5a. Updates: Debian's security upgrades.
check unattended-upgrades "apt's periodic unattended upgrade on, security archive in sources" \
  sh -c "apt-config dump | grep -q 'APT::Periodic::Unattended-Upgrade \"1\"' && grep -q bookworm-security /etc/apt/sources.list && systemctl is-enabled apt-daily-upgrade.timer"

# 6. First boot message.
check firstboot-message "the first boot printed the setup code, cairn.local and the address" \
  sh -c "journalctl -u cairn-firstboot -o cat | grep -q 'cairn.local' && journalctl -u cairn-firstboot -o cat | grep -Eq 'setup code [A-Z2-9]{4}-' && journalctl -u cairn-firstboot -o cat | grep -q 10.0.2.15"

# 7. SSH straight into the TUI, through tmux as a person would.
mkdir -p /root/.ssh
ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/tui_key
install -m 0644 /root/.ssh/tui_key.pub /etc/ssh/cairn-tui-keys/backup
ssh_opts=(-i /root/.ssh/tui_key -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/root/.ssh/known_hosts -o BatchMode=yes)
# The client's own log (-E) and sshd's say why, when the screen does not come.
tmux new-session -d -s tui -x 120 -y 40 "ssh -E /tmp/tui-ssh.log -tt ${ssh_opts[*]} backup@localhost"
check tui-setup-screen "ssh backup@ opens the TUI: a new box asks for the owner account" wait_for 300 screen_has 'Username:'
say "MEASURE tui-login: session $(tmux has-session -t tui 2>/dev/null && echo open || echo gone); screen: $(tmux capture-pane -p -t tui 2>/dev/null | grep . | head -n 4 | tr -s ' ' | tr '\n' '|'); client: $(tr '\n' '|' </tmp/tui-ssh.log | tail -c 300); sshd: $(journalctl -u ssh -o cat -n 4 | tr '\n' '|')"
for value in owner 'a long passphrase' 'a long passphrase'; do
  tmux send-keys -t tui -l "$value"; tmux send-keys -t tui Enter; sleep 3
done
check tui-dashboard "then the dashboard" wait_for 300 screen_has 'Jobs'
say "MEASURE tui-screen: $(tmux capture-pane -p -t tui 2>/dev/null | head -n 3 | tr -s ' ' | tr '\n' '|')"
# Only a session still open here can show that quitting ends it.
session_gone() { ! tmux has-session -t tui 2>/dev/null; }
open_before_quit=no
tmux has-session -t tui 2>/dev/null && open_before_quit=yes
tmux send-keys -t tui q
quit_ended_session() { [ "$open_before_quit" = yes ] && wait_for 60 session_gone; }
check tui-quit-ends-session "quitting the TUI ends the SSH session (open before q: $open_before_quit)" quit_ended_session
# What a login as backup reaches: a client command line (for sh) that must not bring back PATTERN,
# and sshd must have let the key in (a new "Accepted publickey for backup" in its journal), since a
# login refused outright would prove nothing about what a login can reach.
backup_logins() { journalctl -u ssh -o cat 2>/dev/null | grep -c 'Accepted publickey for backup'; }
more_backup_logins_than() { [ "$(backup_logins)" -gt "$1" ]; }
logs_in_reaching_no() { # PATTERN CLIENT-COMMAND-LINE
  local before output
  before=$(backup_logins)
  output=$(sh -c "$2" 2>&1)
  echo "client said: $(printf '%s' "$output" | tr -d '\033' | tr '\n' ' ' | head -c 200)"
  if printf '%s' "$output" | grep -q -- "$1"; then echo "REACHED: $1"; return 1; fi
  wait_for 20 more_backup_logins_than "$before" || { echo "sshd accepted no login for backup"; return 1; }
}
check no-shell-command "a command asked for is not run (the TUI is, and fails without a terminal)" \
  logs_in_reaching_no SHELL-REACHED "timeout 60 ssh ${ssh_opts[*]} backup@localhost 'echo SHELL-REACHED'"
check no-shell-stdin "'ssh backup@ sh' with commands on its input runs none of them" \
  logs_in_reaching_no SHELL-REACHED "echo 'echo SHELL-REACHED' | timeout 60 ssh ${ssh_opts[*]} backup@localhost sh"
# -N -L: sshd is asked for a channel only when the forwarded port is used; the health answer must not come through.
# The client listens on the port once logged in (a slow guest takes a while): up to 2 minutes.
check no-local-forwarding "-N -L local forwarding reaches nothing" \
  logs_in_reaching_no '"version"' "ssh ${ssh_opts[*]} -N -L 18098:127.0.0.1:8080 backup@localhost & for i in \$(seq 60); do ss -ltn | grep -q ':18098 ' && break; sleep 2; done; timeout 20 bash -c 'exec 3<>/dev/tcp/127.0.0.1/18098 && printf \"GET /api/system/health HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3'; kill \$!"
check no-forwarding "port forwarding is refused" sh -c "timeout 60 ssh ${ssh_opts[*]} -o ExitOnForwardFailure=yes -R 18099:127.0.0.1:8080 backup@localhost true 2>&1 | grep -q 'forwarding failed'"
check no-sftp "sftp reaches no file" logs_in_reaching_no /etc "echo 'ls /' | timeout 60 sftp ${ssh_opts[*]} -b - backup@localhost"
check owner-account-unchanged "the owner's account keeps its shell" sh -c "[ \"\$(getent passwd cairn | cut -d: -f7)\" = /bin/bash ]"

# 5b. An update with a broken binary rolls back and the service stays healthy.
cp -p /usr/local/bin/cairn /root/cairn-before-update
printf '#!/bin/sh\n[ "$1" = version ] && { echo 9.9.9-broken; exit 0; }\necho "broken on purpose" >&2\nexit 1\n' >/root/cairn-broken
chmod 755 /root/cairn-broken
bash /usr/local/lib/cairn/install.sh --binary /root/cairn-broken --no-apt --health-timeout 240 >/tmp/update.out 2>&1
update_status=$?
say "MEASURE update: exit $update_status: $(tail -n 3 /tmp/update.out | tr '\n' ' ')"
check update-rolled-back "install.sh with a broken binary exits 1 and puts the previous binary back" \
  sh -c "[ $update_status = 1 ] && cmp -s /usr/local/bin/cairn /root/cairn-before-update && grep -q 'Rolled back' /tmp/update.out"
version_is_back() { [ "$(healthy_version)" = "$version" ]; }
wait_for 240 version_is_back
login=$(http POST /api/auth/login '{"username":"owner","password":"a long passphrase"}' | head -n1)
check update-healthy "after the rollback health answers $version and the owner still logs in ($login)" \
  sh -c "[ '$(healthy_version)' = '$version' ] && echo '$login' | grep -q ' 200 '"

# 4b. Idle writes: nothing runs, nobody asks; what reaches the root filesystem, and who wrote it.
# Per process: write_bytes in /proc/PID/io (what it dirtied for storage, counted when written, not
# when flushed), with its command and systemd unit; Cairn's share is every process of cairn.service
# (the daemon and any worker it started). A process that exits within the window is not seen.
io_table() { # PID COMMAND UNIT WRITE_BYTES, one line per process
  local io pid bytes unit
  for io in /proc/[0-9]*/io; do
    pid=${io#/proc/}; pid=${pid%/io}
    bytes=$(sed -n 's/^write_bytes: //p' "$io" 2>/dev/null)
    [ -n "$bytes" ] || continue
    unit=$(sed -n 's|^0::.*/||p' "/proc/$pid/cgroup" 2>/dev/null)
    echo "$pid $(tr ' ' _ <"/proc/$pid/comm" 2>/dev/null || echo ?) ${unit:--} $bytes"
  done
}
root_partition=$(basename "$(findmnt -no SOURCE /)")
root_sectors() { awk '{print $7}' "/sys/class/block/$root_partition/stat"; }
sync; sleep 30
io_table >/tmp/io.before
before_sectors=$(root_sectors)
sleep "$idle_seconds"
sync
after_sectors=$(root_sectors)
io_table >/tmp/io.after
# Bytes each process wrote in the window (a process new since the first table: all it wrote).
awk 'NR == FNR { before[$1] = $4; next } { d = $4 - before[$1]; if (d > 0) print d, $2, $3, $1 }' /tmp/io.before /tmp/io.after | sort -rn >/tmp/io.delta
root_kib=$(( (after_sectors - before_sectors) / 2 ))
cairn_bytes=$(awk '$3 == "cairn.service" { sum += $1 } END { print sum + 0 }' /tmp/io.delta)
writers=$(head -n 6 /tmp/io.delta | awk '{ printf "%s%s (%s) %d B", (NR > 1 ? ", " : ""), $2, $3, $1 }')
say "MEASURE idle-writes: ${idle_seconds} s idle: ${root_kib} KiB written to the root filesystem ($root_partition, /sys/class/block/$root_partition/stat); processes that wrote: ${writers:-none}; Cairn (cairn.service) ${cairn_bytes} bytes"
check idle-cairn-writes "Cairn writes nothing to storage while idle (${cairn_bytes} bytes in ${idle_seconds} s)" test "$cairn_bytes" -eq 0

say "CHECKS DONE pass=$passed fail=$failed"
