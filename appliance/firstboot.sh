#!/bin/sh
# First boot of a Cairn appliance: this box's own SSH host keys, then the next steps on the console
# (HDMI or serial) and in the journal.
set -eu
ssh-keygen -A
touch /var/lib/cairn-firstboot.done
address=$(hostname -I 2>/dev/null | cut -d' ' -f1)
cat <<MSG

  Cairn is installed. Next:
    ssh cairn@${address:-<this box's address>}     (password "cairn"; you will be asked for a new one)
    cairn tui                                      (creates the owner account of the backup service)
  The API (and a phone app) answers on http://${address:-<address>}:8080

MSG
