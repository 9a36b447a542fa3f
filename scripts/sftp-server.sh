#!/usr/bin/env bash
# A real OpenSSH SFTP server for the tests, on 127.0.0.1, run from DIR and stopped by PID.
#   start DIR [PORT]  writes DIR/sshd_config, a host key, client keys and DIR/authorized_keys,
#                     starts /usr/sbin/sshd (PID in DIR/sshd.pid, log in DIR/sshd.log) on PORT or a
#                     free port, waits until it listens and prints the port.
#   stop DIR          ends that sshd and its open sessions, and waits until they are gone.
# The login is the user cairn-sftp (created when missing) with password "cairn-sftp-password" or
# either client key: DIR/client_key (no passphrase) and DIR/client_key_encrypted (passphrase
# "key passphrase"). The files land in DIR/data, owned by cairn-sftp.
set -euo pipefail
source "$(dirname "$(realpath "$0")")/lib/test-server.sh"
action=${1:?start or stop}
dir=${2:?server dir}
dir=$(realpath -m "$dir")
user=cairn-sftp
password=cairn-sftp-password
passphrase='key passphrase'
pid_file=$dir/sshd.pid
log=$dir/sshd.log

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

case "$action" in
  start)
    [ -x /usr/sbin/sshd ] || { echo "/usr/sbin/sshd is missing (apt-get install openssh-server)" >&2; exit 1; }
    mkdir -p "$dir/data" /run/sshd
    chmod 755 /run/sshd
    # The user is shared by every test server; test files may start servers at the same time.
    (
      flock 9
      if ! id -u "$user" >/dev/null 2>&1; then
        useradd --create-home --shell /bin/sh --comment 'Cairn SFTP tests' "$user"
      fi
      echo "$user:$password" | chpasswd
    ) 9>"${TMPDIR:-/tmp}/cairn-test-sftp-user.lock"
    # sshd reads authorized_keys as the user, and the user's sessions reach DIR/data: DIR must be
    # traversable by everyone (mkdtemp makes it 0700).
    chmod 755 "$dir"
    chown "$user:" "$dir/data"
    chmod 755 "$dir/data"

    [ -f "$dir/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C cairn-test-host -f "$dir/ssh_host_ed25519_key"
    [ -f "$dir/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C cairn-test-client -f "$dir/client_key"
    [ -f "$dir/client_key_encrypted" ] || ssh-keygen -q -t ed25519 -N "$passphrase" -C cairn-test-client-encrypted -f "$dir/client_key_encrypted"
    cat "$dir/client_key.pub" "$dir/client_key_encrypted.pub" >"$dir/authorized_keys"
    chmod 644 "$dir/authorized_keys"

    refuse_if_running "$pid_file" sshd "$dir"

    # A free port can be taken by someone else before sshd binds it: try again with another one.
    for attempt in 1 2 3 4 5; do
      port=${3:-$(free_port)}
      cat >"$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/ssh_host_ed25519_key
PidFile none
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication yes
PubkeyAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $user
Subsystem sftp internal-sftp
MaxStartups 100
MaxSessions 100
LogLevel VERBOSE
EOF
      : >"$log"
      /usr/sbin/sshd -D -e -f "$dir/sshd_config" </dev/null >>"$log" 2>&1 &
      pid=$!
      echo "$pid" >"$pid_file"
      # "Server listening on" comes after bind and listen: from then on connections are accepted.
      for _ in $(seq 1 200); do
        if ! running "$pid"; then break; fi
        if grep -q "Server listening on 127.0.0.1 port $port" "$log"; then
          echo "$port"
          exit 0
        fi
        sleep 0.05
      done
      stop_pid "$pid" sshd with-children || true
      rm -f "$pid_file"
      if [ -n "${3:-}" ] || ! grep -q 'Bind to port' "$log"; then break; fi
    done
    echo "sshd did not start:" >&2
    cat "$log" >&2
    exit 1
    ;;
  stop)
    stop_from_pid_file "$pid_file" sshd with-children
    ;;
  *)
    echo "usage: $0 start DIR [PORT] | stop DIR" >&2
    exit 2
    ;;
esac
