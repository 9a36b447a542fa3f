#!/usr/bin/env bash
# A real WebDAV server for the tests: `rclone serve webdav` on 127.0.0.1, run from DIR and stopped
# by PID.
#   start DIR PORT USER PASS [RCLONE-FLAG ...]  serves DIR/data with basic auth (PID in
#       DIR/webdav.pid, log in DIR/webdav.log), waits until it answers HTTP and prints the port.
#       PORT 0 lets the kernel pick a free one. Exits 3 when PORT is taken.
#   stop DIR  ends it and waits until it is gone.
# Directory listings are not cached (--dir-cache-time 0s): files a test puts straight into DIR/data
# show up at once.
set -euo pipefail
source "$(dirname "$(realpath "$0")")/lib/test-server.sh"
action=${1:?start or stop}
dir=${2:?server dir}
dir=$(realpath -m "$dir")
pid_file=$dir/webdav.pid
log=$dir/webdav.log

case "$action" in
  start)
    port=${3:?port}
    user=${4:?user}
    pass=${5:?password}
    shift 5
    command -v rclone >/dev/null || { echo "rclone is missing (apt-get install rclone)" >&2; exit 1; }
    refuse_if_running "$pid_file" rclone "$dir"
    mkdir -p "$dir/data"
    : >"$log"
    # Its own (absent) config and cache: nothing from root's ~/.config/rclone is used.
    RCLONE_CONFIG=$dir/rclone.conf RCLONE_CACHE_DIR=$dir/rclone-cache \
      rclone serve webdav "$dir/data" --addr "127.0.0.1:$port" --user "$user" --pass "$pass" \
      --dir-cache-time 0s "$@" </dev/null >>"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$pid_file"
    for _ in $(seq 1 200); do
      running "$pid" || break
      # rclone logs the port it got: with PORT 0, the one the kernel picked.
      bound=$(sed -n 's|.*Server started on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$log" | head -n 1)
      if [ -n "$bound" ] &&
        node -e 'fetch(process.argv[1], { method: "OPTIONS" }).then(() => process.exit(0), () => process.exit(1))' "http://127.0.0.1:$bound/"; then
        if running "$pid"; then
          echo "$bound"
          exit 0
        fi
        break
      fi
      sleep 0.05
    done
    stop_pid "$pid" rclone || true
    rm -f "$pid_file"
    echo "rclone serve webdav did not start:" >&2
    cat "$log" >&2
    grep -q 'address already in use' "$log" && exit 3
    exit 1
    ;;
  stop)
    stop_from_pid_file "$pid_file" rclone
    ;;
  *)
    echo "usage: $0 start DIR PORT USER PASS [RCLONE-FLAG ...] | stop DIR" >&2
    exit 2
    ;;
esac
