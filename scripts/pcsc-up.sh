#!/bin/sh
# Make sure pcscd is running with the vpcd driver (virtual readers on
# 127.0.0.1:35963 and :35964).  Idempotent; run as root.  Used by CI and by
# tests/smartcard (the card tests fail loudly if this script fails).
set -eu

CONF=/etc/reader.conf.d/vpcd
DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
PIDFILE=/run/pcscd/pcscd.pid
PORT=35963
WAIT_TENTHS=${PCSC_UP_WAIT_TENTHS:-100}

die() { echo "pcsc-up: $*" >&2; exit 1; }

command -v pcscd >/dev/null 2>&1 || die "pcscd not installed (apt-get install pcscd)"
[ -e "$DRIVER" ] || die "vpcd driver missing (apt-get install vsmartcard-vpcd)"
if [ ! -e "$CONF" ]; then
    # Debian ships this file with the package; recreate it if someone removed it.
    printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x8C7B\nLIBPATH      %s\nCHANNELID    0x8C7B\n' \
        "$DRIVER" > "$CONF"
fi

listening() {
    # Look at the listening sockets only: connecting to vpcd would "insert a card".
    if command -v ss >/dev/null 2>&1; then
        ss -ltn 2>/dev/null | grep -q ":$PORT "
    else
        grep -qi ":$(printf '%04X' $PORT) .* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
    fi
}

running() {
    [ -s "$PIDFILE" ] && kill -0 "$(tr -d '\0' < "$PIDFILE")" 2>/dev/null
}

if running && listening; then
    echo "pcsc-up: pcscd $(tr -d '\0' < "$PIDFILE") already running with vpcd on :$PORT"
    exit 0
fi

if running; then
    # pcscd is up but vpcd's port is not: started without the vpcd config; restart it.
    kill "$(tr -d '\0' < "$PIDFILE")"
    sleep 1
fi

# A pcscd killed hard leaves its socket and pid file behind; pcscd refuses to start over them.
rm -f /run/pcscd/pcscd.comm "$PIDFILE"
mkdir -p /run/pcscd
pcscd

i=0
until listening; do
    i=$((i + 1))
    [ "$i" -le "$WAIT_TENTHS" ] || die "pcscd started but vpcd is not listening on :$PORT"
    sleep 0.1
done
echo "pcsc-up: pcscd $(tr -d '\0' < "$PIDFILE" 2>/dev/null || echo '?') running with vpcd on :$PORT"
