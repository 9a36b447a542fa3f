#!/bin/sh
# Publishes Cairn's API on the LAN by DNS-SD (avahi): `_cairn._tcp` for a phone app that looks for
# Cairn, `_https._tcp` for generic browsers, both on the port the service listens on, with TXT records
# naming Cairn, the API's path and the certificate's SHA-256 fingerprint (the pin the app checks).
# Run after Cairn starts (cairn-advertise.service); writes the avahi file only when it changes, so a
# boot with nothing new writes nothing to the card.
#
#   advertise.sh [--out /etc/avahi/services/cairn.service]
set -eu
out=/etc/avahi/services/cairn.service
[ "${1:-}" = --out ] && out=${2:?--out needs a file}

port=$(sed -n 's/^[[:space:]]*CAIRN_PORT[[:space:]]*=[[:space:]]*\([0-9]\{1,5\}\)[[:space:]]*$/\1/p' /etc/default/cairn 2>/dev/null | tail -n1)
port=${port:-8080}
# The daemon makes its certificate at its first start: wait for it a little, then advertise without.
fingerprint=""
for _ in $(seq 30); do
  fingerprint=$(cairn fingerprint 2>/dev/null | sed -n 's/^SHA-256 fingerprint: \([0-9A-Fa-f:]*\)$/\1/p') && [ -n "$fingerprint" ] && break
  sleep 2
done

txt() { printf '    <txt-record>%s</txt-record>\n' "$1"; }
records() {
  txt "product=Cairn"
  txt "path=/api"
  txt "version=$(cairn version 2>/dev/null || echo unknown)"
  [ -n "$fingerprint" ] && txt "fingerprint_sha256=$fingerprint"
  return 0
}
new=$(mktemp)
trap 'rm -f "$new"' EXIT
cat >"$new" <<XML
<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<!-- Written by Cairn's advertise.sh at each start; edits are replaced. -->
<service-group>
  <name replace-wildcards="yes">Cairn on %h</name>
  <service>
    <type>_cairn._tcp</type>
    <port>$port</port>
$(records)
  </service>
  <service>
    <type>_https._tcp</type>
    <port>$port</port>
$(records)
  </service>
</service-group>
XML
if ! cmp -s "$new" "$out"; then
  chmod 0644 "$new"
  mv "$new" "$out"
  echo "advertised Cairn on port $port${fingerprint:+ (fingerprint $fingerprint)}"
fi
