#!/usr/bin/env bash
# Starts systemd-udevd for the USB tests when none runs (containers and CI have none), and stops
# it, by PID, when the last test that asked for it is done. Test files may run in parallel, so the
# users are counted under a lock. Usage: scripts/udevd.sh start|stop TOKEN-FILE
set -euo pipefail
action=${1:?start or stop}
token=$(basename "${2:?token file}")
state=${TMPDIR:-/tmp}/cairn-test-udevd
mkdir -p "$state/users"
exec 9>"$state/lock"
flock 9

udevd=""
for candidate in /usr/lib/systemd/systemd-udevd /lib/systemd/systemd-udevd; do
  [ -x "$candidate" ] && udevd=$candidate && break
done

case "$action" in
  start)
    touch "$state/users/$token"
    if ! pgrep -x systemd-udevd >/dev/null; then
      [ -n "$udevd" ] || { echo "systemd-udevd is not installed (apt-get install udev)" >&2; exit 1; }
      "$udevd" >/dev/null 2>&1 9>&- &
      echo $! >"$state/pid"
    fi
    # Wait until it answers, so the first event is not lost.
    for _ in $(seq 1 50); do
      udevadm control --ping 2>/dev/null && exit 0
      sleep 0.1
    done
    echo "systemd-udevd did not start" >&2
    exit 1
    ;;
  stop)
    rm -f "$state/users/$token"
    # Only a udevd these tests started is stopped, and only when no test needs it any more.
    if [ -z "$(ls -A "$state/users")" ] && [ -s "$state/pid" ]; then
      kill "$(cat "$state/pid")" 2>/dev/null || true
      rm -f "$state/pid"
    fi
    ;;
  *)
    echo "usage: $0 start|stop TOKEN-FILE" >&2
    exit 2
    ;;
esac
