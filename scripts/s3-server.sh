#!/usr/bin/env bash
# A real S3 server for the tests (scripts/s3-server.mjs: s3rver with the bucket cairn-test and
# SigV4 checks), on 127.0.0.1, run from DIR and stopped by PID.
#   start DIR PORT [--loose-auth]  stores into DIR/data (PID in DIR/s3.pid, log in DIR/s3.log),
#                                  waits until it listens and prints the port (PORT 0: a free one).
#                                  Exits 3 when PORT is taken.
#   stop DIR                       ends it and waits until it is gone.
set -euo pipefail
source "$(dirname "$(realpath "$0")")/lib/test-server.sh"
action=${1:?start or stop}
dir=${2:?server dir}
dir=$(realpath -m "$dir")
pid_file=$dir/s3.pid
log=$dir/s3.log
script=$(dirname "$(realpath "$0")")/s3-server.mjs

case "$action" in
  start)
    port=${3:?port}
    shift 3
    refuse_if_running "$pid_file" s3rver "$dir"
    mkdir -p "$dir/data"
    : >"$log"
    node --openssl-legacy-provider "$script" "$dir/data" "$port" "$@" </dev/null >>"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$pid_file"
    for _ in $(seq 1 200); do
      running "$pid" || break
      bound=$(sed -n 's|^s3rver listening on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$log" | head -n 1)
      if [ -n "$bound" ]; then
        echo "$bound"
        exit 0
      fi
      sleep 0.05
    done
    code=1
    grep -q 'EADDRINUSE\|address already in use' "$log" && code=3
    stop_pid "$pid" s3rver || true
    rm -f "$pid_file"
    echo "s3rver did not start:" >&2
    cat "$log" >&2
    exit $code
    ;;
  stop)
    stop_from_pid_file "$pid_file" s3rver
    ;;
  *)
    echo "usage: $0 start DIR PORT [--loose-auth] | stop DIR" >&2
    exit 2
    ;;
esac
