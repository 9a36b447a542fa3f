#!/usr/bin/env bash
# Starts systemd-udevd for the USB tests when none runs (containers and CI have none), and stops
# the one it started, by PID. Usage: scripts/udevd.sh start|stop PIDFILE
set -euo pipefail
action=${1:?start or stop}
pidfile=${2:?pid file}

udevd=""
for candidate in /usr/lib/systemd/systemd-udevd /lib/systemd/systemd-udevd; do
  [ -x "$candidate" ] && udevd=$candidate && break
done

case "$action" in
  start)
    if pgrep -x systemd-udevd >/dev/null; then
      echo "systemd-udevd already runs" >&2
      : >"$pidfile"
      exit 0
    fi
    [ -n "$udevd" ] || { echo "systemd-udevd is not installed (apt-get install udev)" >&2; exit 1; }
    "$udevd" >/dev/null 2>&1 &
    echo $! >"$pidfile"
    # Wait until it answers, so the first event is not lost.
    for _ in $(seq 1 50); do
      udevadm control --ping 2>/dev/null && exit 0
      sleep 0.1
    done
    echo "systemd-udevd did not start" >&2
    exit 1
    ;;
  stop)
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    ;;
  *)
    echo "usage: $0 start|stop PIDFILE" >&2
    exit 2
    ;;
esac
