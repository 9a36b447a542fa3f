# Cairn appliance: an SSH login says how to open the terminal UI.
if [ -n "${SSH_CONNECTION:-}" ] && [ -t 1 ] && [ -z "${CAIRN_HINT_SHOWN:-}" ]; then
  export CAIRN_HINT_SHOWN=1
  echo 'Cairn: type "cairn tui" to watch and steer backups (the first time, it creates the owner account).'
  echo '       `ssh backup@cairn.local` opens it directly, once that account has a key or password (docs/APPLIANCE.md).'
fi
