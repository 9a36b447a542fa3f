#!/usr/bin/env bash
# Installs Cairn's single binary as a systemd service on Debian or Raspberry Pi OS (run as root):
#   scripts/install.sh [--binary FILE] [--root DIR] [--no-start] [--no-apt] [--health-timeout SECONDS]
#   scripts/install.sh --uninstall [--purge] [--root DIR]
#
# Install: the binary to /usr/local/bin/cairn, the unit to /etc/systemd/system/cairn.service,
# settings to /etc/default/cairn (kept if present; read by the service and by the `cairn` CLI),
# the data dir /var/lib/cairn (0700), the Debian packages Cairn runs (rsync, util-linux, udev, openssl),
# and the service enabled and started.
# Update (the same command on a box that has Cairn): the binary is replaced in place, the data and
# settings kept; the previous binary stays as /usr/local/bin/cairn.previous and the database is copied
# aside; after the restart the service must answer its health check with the new version within
# --health-timeout seconds (default 120), else the previous binary and database are put back, the
# service restarted, and the script exits 1.
# Uninstall: stops and removes the service and the binary; the data dir and the settings stay
# unless --purge (the data holds the backups' history and the key of the stored credentials).
# --root DIR installs into a system image mounted at DIR (nothing is started; used by appliance/).
# --binary defaults to dist/cairn-linux-<arch> beside this script, or cairn-linux-<arch> in this folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

root=""
binary=""
start=yes
apt=yes
action=install
purge=no
health_timeout=120
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=${2:?--binary needs a file}; shift ;;
    --root) root=$(realpath "${2:?--root needs a folder}"); shift ;;
    --no-start) start=no ;;
    --no-apt) apt=no ;;
    --uninstall) action=uninstall ;;
    --purge) purge=yes ;;
    --health-timeout) health_timeout=${2:?--health-timeout needs seconds}; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo $0 …)" >&2; exit 1; }
# With --root nothing runs on this machine's systemd; the unit is enabled inside the image.
systemctl_() {
  if [ -n "$root" ]; then systemctl --root="$root" "$@"; else systemctl "$@"; fi
}
systemd_running() {
  [ -z "$root" ] && [ -d /run/systemd/system ]
}

bin_path=$root/usr/local/bin/cairn
unit_path=$root/etc/systemd/system/cairn.service
settings_path=$root/etc/default/cairn
data_dir=$root/var/lib/cairn

if [ "$action" = uninstall ]; then
  if systemd_running; then systemctl disable --now cairn.service 2>/dev/null || true; else systemctl_ disable cairn.service 2>/dev/null || true; fi
  rm -f "$unit_path" "$bin_path"
  systemd_running && systemctl daemon-reload
  if [ "$purge" = yes ]; then
    rm -rf "$data_dir" "$settings_path"
    echo "Cairn removed, with its data ($data_dir) and settings."
  else
    echo "Cairn removed. Its data stays in $data_dir and its settings in $settings_path (--purge removes them)."
  fi
  exit 0
fi

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "Cairn's binary is built for x86_64 and aarch64, not $(uname -m)" >&2; exit 1 ;;
esac
# Installing into an image: the image's architecture decides, if it says.
if [ -n "$root" ] && [ -f "$root/var/lib/dpkg/arch" ]; then
  case "$(head -n1 "$root/var/lib/dpkg/arch")" in amd64) arch=x64 ;; arm64) arch=arm64 ;; esac
fi
if [ -z "$binary" ]; then
  for candidate in "$here/../dist/cairn-linux-$arch" "$here/cairn-linux-$arch"; do
    [ -f "$candidate" ] && binary=$candidate && break
  done
fi
[ -n "$binary" ] && [ -f "$binary" ] || { echo "no binary: build it with npm run build:binary, or pass --binary FILE" >&2; exit 1; }
unit_source=""
for candidate in "$here/../systemd/cairn.service" "$here/cairn.service"; do
  [ -f "$candidate" ] && unit_source=$candidate && break
done
[ -n "$unit_source" ] || { echo "cairn.service not found beside $0" >&2; exit 1; }

if [ "$apt" = yes ] && [ -z "$root" ]; then
  missing=()
  for package in rsync util-linux udev openssl; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} …"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# Where the service keeps its data and listens: in the settings file, which the CLI reads too.
# A box installed by an older script had them as Environment= lines in the unit: carry those over.
service_setting() { # NAME DEFAULT: the value the installed unit sets, else DEFAULT
  local value=""
  [ -f "$unit_path" ] && value=$(sed -n "s/^Environment=$1=//p" "$unit_path" | tail -n1)
  echo "${value:-$2}"
}
data_dir_setting=$(service_setting CAIRN_DATA_DIR /var/lib/cairn)
host_setting=$(service_setting CAIRN_HOST 0.0.0.0)

# An update keeps what it replaces, to roll back to (see the end) or to go back to by hand.
previous=""
if [ -z "$root" ] && [ -f "$bin_path" ] && ! cmp -s "$binary" "$bin_path"; then
  previous=$bin_path.previous
  cp -p "$bin_path" "$previous"
fi
# Beside it, then renamed: a running service or a power cut never sees half a binary.
install -D -m 0755 "$binary" "$bin_path.new"
mv -f "$bin_path.new" "$bin_path"
# Just written, the whole binary sits in the page cache, and a daemon started from it then maps
# ~30 MB more of it than after a boot (the kernel maps the cached pages around each one it touches;
# issue 17, docs/ARCHITECTURE.md). Written out and dropped from the cache, it starts as after a boot.
forget_cached_binary() {
  sync "$bin_path" 2>/dev/null || true
  dd if="$bin_path" iflag=nocache count=0 status=none 2>/dev/null || true
}
forget_cached_binary
if [ ! -f "$settings_path" ]; then
  install -D -m 0644 /dev/null "$settings_path"
  cat >"$settings_path" <<EOF
# Cairn's settings (see \`cairn --help\` and the README), read by the service and by the cairn
# command; restart with: systemctl restart cairn
CAIRN_DATA_DIR=$data_dir_setting
# 0.0.0.0: the API answers on every network of this box (the phone app on your LAN)
CAIRN_HOST=$host_setting
# CAIRN_PORT=8080
# The only folders jobs may back up, write to and restore into, and the API may browse (comma-separated):
CAIRN_ALLOWED_PATHS=/home,/srv,/mnt,/media
# Behind a reverse proxy on this box, its address, so the login limit sees each client (comma-separated):
# CAIRN_TRUSTED_PROXIES=127.0.0.1
# Back up registered USB drives when they are plugged in:
CAIRN_WATCH_DRIVES=true
# The Raspberry Pi's green LED shows when a drive is safe to remove:
# CAIRN_LED_PATH=/sys/class/leds/ACT
EOF
else
  # Appended on their own lines even when the owner's file has no final newline.
  [ -z "$(tail -c1 "$settings_path")" ] || echo >>"$settings_path"
  for setting in "CAIRN_DATA_DIR=$data_dir_setting" "CAIRN_HOST=$host_setting"; do
    grep -Eq "^[[:space:]]*${setting%%=*}[[:space:]]*=" "$settings_path" || echo "$setting" >>"$settings_path"
  done
fi
install -D -m 0644 "$unit_source" "$unit_path"
install -d -m 0700 "$data_dir"

# The version the daemon on this box reports over plain HTTP (served to the box itself), or nothing.
# bash's /dev/tcp: no HTTP client needs to be installed. Where it listens: the settings file.
health_version() {
  local host port reply
  host=$(sed -n 's/^[[:space:]]*CAIRN_HOST[[:space:]]*=[[:space:]]*//p' "$settings_path" | tail -n1 | tr -d '[:space:]')
  port=$(sed -n 's/^[[:space:]]*CAIRN_PORT[[:space:]]*=[[:space:]]*//p' "$settings_path" | tail -n1 | tr -d '[:space:]')
  case "$host" in ''|0.0.0.0|::|'[::]') host=127.0.0.1 ;; esac
  reply=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "GET /api/system/health HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3 && cat <&3' "$host" "${port:-8080}" 2>/dev/null) || return 0
  case "$reply" in "HTTP/1."?" 200 "*) printf '%s' "$reply" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p' ;; esac
}
# Waits until the service answers health with VERSION; fails after --health-timeout seconds.
wait_healthy() {
  local deadline=$(( $(date +%s) + health_timeout ))
  [ -n "$1" ] || return 1
  while [ "$(date +%s)" -lt "$deadline" ]; do
    [ "$(health_version)" = "$1" ] && return 0
    sleep 2
  done
  return 1
}
# The new binary did not become healthy: the previous binary and database back, and the service on them.
roll_back() {
  echo "Cairn ${1:-(the new binary, which cannot say its version)} did not become healthy within ${health_timeout} s: rolling back." >&2
  systemctl stop cairn.service || true
  mv -f "$previous" "$bin_path"
  [ -f "$database.before-update" ] && mv -f "$database.before-update" "$database"
  forget_cached_binary
  systemctl restart cairn.service
  local old
  old=$("$bin_path" version 2>/dev/null || true)
  if wait_healthy "$old"; then
    echo "Rolled back: Cairn $old runs again, with the data as before. See why the new one failed: journalctl -u cairn" >&2
  else
    echo "The previous Cairn $old does not become healthy either: journalctl -u cairn" >&2
  fi
  exit 1
}

systemctl_ enable cairn.service
if systemd_running; then
  systemctl daemon-reload
  if [ "$start" = yes ]; then
    # The database as it is now: a new version migrates it, which the previous one would refuse.
    database=$(sed -n 's/^[[:space:]]*CAIRN_DATA_DIR[[:space:]]*=[[:space:]]*//p' "$settings_path" | tail -n1)/cairn-db.json
    [ -n "$previous" ] && [ -f "$database" ] && cp -p "$database" "$database.before-update"
    new_version=$("$bin_path" version 2>/dev/null || true)
    forget_cached_binary
    systemctl restart cairn.service || true
    if ! wait_healthy "$new_version"; then
      [ -n "$previous" ] && roll_back "$new_version"
      echo "Cairn did not become healthy within ${health_timeout} s: journalctl -u cairn" >&2
      exit 1
    fi
    rm -f "$database.before-update"
  fi
fi

version=$("$bin_path" version 2>/dev/null || echo "(not runnable on this machine's architecture)")
cat <<EOF
Cairn $version installed: $bin_path, service cairn.service (enabled), data in ${data_dir#"$root"}.
Next: open the terminal UI with \`cairn tui\` to create the owner account, or
      POST /api/auth/setup { "username": …, "password": … } to port 8080.
EOF
