# Process handling shared by the test-server scripts (sftp-server.sh, webdav-server.sh,
# s3-server.sh): sourced, not run. Every server is started in the background and stopped by PID.

# True while PID runs (a zombie waiting for its parent counts as gone).
running() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# Stops PID (TERM, then KILL) and waits until it is gone. With "with-children", its children
# (sshd's sessions) are stopped first. NAME is for the message when it will not go.
stop_pid() {
  local pid=$1 name=$2 children=${3:-}
  local signal tries
  for signal in TERM KILL; do
    running "$pid" || return 0
    if [ "$children" = with-children ]; then pkill "-$signal" -P "$pid" 2>/dev/null || true; fi
    kill "-$signal" "$pid" 2>/dev/null || true
    # 5 s for a clean exit after TERM, 2 s after KILL.
    tries=$([ "$signal" = TERM ] && echo 100 || echo 40)
    for _ in $(seq 1 "$tries"); do
      running "$pid" || return 0
      sleep 0.05
    done
  done
  echo "$name $pid did not exit" >&2
  return 1
}

# Refuses to start a second server from the same folder.
refuse_if_running() {
  local pid_file=$1 name=$2 dir=$3
  if [ -s "$pid_file" ] && running "$(cat "$pid_file")"; then
    echo "$name already runs from $dir (PID $(cat "$pid_file"))" >&2
    exit 1
  fi
}

# The `stop` action: ends the server whose PID is in PID_FILE, if any.
stop_from_pid_file() {
  local pid_file=$1 name=$2 children=${3:-}
  if [ -s "$pid_file" ]; then
    stop_pid "$(cat "$pid_file")" "$name" "$children"
    rm -f "$pid_file"
  fi
}
