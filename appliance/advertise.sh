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

# The daemon makes its certificate at its first start (its own, unless CAIRN_TLS_CERT names the
# owner's): wait for the file for up to 5 minutes (a first start on a slow card), then ask Cairn for
# the fingerprint; advertise without it if there is none.
setting() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" /etc/default/cairn 2>/dev/null | tail -n1; }
certificate=$(setting CAIRN_TLS_CERT)
certificate=${certificate:-$(setting CAIRN_DATA_DIR)/tls/certificate.pem}
for _ in $(seq 150); do
  [ -s "$certificate" ] && break
  sleep 2
done
fingerprint=""
for _ in 1 2 3; do
  fingerprint=$(cairn fingerprint 2>/dev/null | sed -n 's/^SHA-256 fingerprint: \([0-9A-Fa-f:]*\)$/\1/p')
  [ -n "$fingerprint" ] && break
  sleep 5
done

port=$(setting CAIRN_PORT | tr -cd '0-9')
port=${port:-8080}
version=$(cairn version 2>/dev/null || echo unknown)

txt() { printf '    <txt-record>%s</txt-record>\n' "$1"; }
records() {
  txt "product=Cairn"
  txt "path=/api"
  txt "version=$version"
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
