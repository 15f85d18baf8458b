#!/usr/bin/env bash
# `make run`: the demo portal on 127.0.0.1 with the embedded defaults — SQLite, the test
# PKI, and (where pcscd can run) a virtual My Number card in a virtual reader plus two card
# bridges: the home one (35980) and the demo kiosk's, in kiosk mode (35981: PIN pad, card
# events), so card login and the kiosk work end to end on this machine.
#
# The card takes commands while it runs: `echo remove > instance/card-control` pulls it out
# of the reader (the kiosk then wipes its screen), `echo insert > …` puts it back.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
export MADOGUCHI_ENV=development
INSTANCE=${MADOGUCHI_INSTANCE_PATH:-$PWD/instance}
"$BIN/madoguchi" demo --residents "${DEMO_RESIDENTS:-300}"
export MADOGUCHI_CONFIG="$INSTANCE/demo.toml"

children=()
cleanup() { for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -f "$INSTANCE/card-control"; }
trap cleanup EXIT INT TERM

if scripts/pcsc-up.sh >/dev/null 2>&1; then
  control="$INSTANCE/card-control"
  rm -f "$control" && mkfifo -m 600 "$control"
  exec 3<>"$control"   # held open here, so the card never reads an end of input
  "$BIN/madoguchi" card serve "$INSTANCE/cards/392049.json" <&3 >"$INSTANCE/card.log" 2>&1 &
  children+=($!)
  "$BIN/madoguchi" bridge --origin "http://$HOST:$PORT" >"$INSTANCE/bridge.log" 2>&1 &
  children+=($!)
  "$BIN/madoguchi" bridge --origin "http://$HOST:$PORT" --port 35981 --kiosk >"$INSTANCE/kiosk-bridge.log" 2>&1 &
  children+=($!)
  echo "仮想カード（南国市の坂本 美咲さん、暗証番号 1234）をカードリーダーに挿入しました / virtual card inserted (PIN 1234)"
  echo "カードを抜く / pull the card: echo remove > $control   (戻す / put back: echo insert > $control)"
else
  echo "pcscd を起動できないため、カードなしで起動します / no pcscd: running without the virtual card" >&2
fi
# The test time-stamping authority: certificates are signed PAdES B-LTA, as in production.
TSA_PORT=${TSA_PORT:-35991}
"$BIN/madoguchi" convenience_issuance tsa-serve "$INSTANCE/tsa" --port "$TSA_PORT" >"$INSTANCE/tsa.log" 2>&1 &
children+=($!)
for _ in $(seq 150); do [ -f "$INSTANCE/tsa/root.pem" ] && break; sleep 0.2; done
export MADOGUCHI_TSA_URL="http://127.0.0.1:$TSA_PORT/tsa" MADOGUCHI_TSA_TRUST_ROOTS="$INSTANCE/tsa/root.pem"

# 南国市's seal key in a SoftHSM2 token, as a city keeps it in an HSM (where SoftHSM2 is
# installed; otherwise the development key). The PIN is in a file only the owner reads.
HSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
if command -v softhsm2-util >/dev/null 2>&1 && [ -f "$HSM_MODULE" ]; then
  export SOFTHSM2_CONF="$INSTANCE/softhsm/softhsm2.conf"
  if [ ! -f "$INSTANCE/softhsm/pin" ]; then
    (umask 077; mkdir -p "$INSTANCE/softhsm/tokens"
     printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
       "$INSTANCE/softhsm/tokens" >"$SOFTHSM2_CONF"
     od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$INSTANCE/softhsm/pin.new")
    softhsm2-util --init-token --free --label madoguchi-demo --pin "$(cat "$INSTANCE/softhsm/pin.new")" \
      --so-pin "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" >/dev/null
    "$BIN/madoguchi" convenience_issuance hsm-create 392049 南国市 --label 392049-demo \
      --module "$HSM_MODULE" --token madoguchi-demo --pin-file "$INSTANCE/softhsm/pin.new" >/dev/null
    mv "$INSTANCE/softhsm/pin.new" "$INSTANCE/softhsm/pin"
  fi
  grep -q '^\[CONVENIENCE_SIGNING_KEYS' "$INSTANCE/demo.toml" || printf \
    '[CONVENIENCE_SIGNING_KEYS."392049".pkcs11]\nmodule = "%s"\ntoken = "madoguchi-demo"\nlabel = "392049-demo"\npin_file = "%s"\n' \
    "$HSM_MODULE" "$INSTANCE/softhsm/pin" >>"$INSTANCE/demo.toml"
  echo "南国市の公印鍵は SoftHSM2 のトークンにあります / 南国市's seal key is in a SoftHSM2 token"
fi

echo "窓口ポータル / portal: http://$HOST:$PORT/    キオスク / kiosk: http://$HOST:$PORT/kiosk/demo-kiosk"
"$BIN/madoguchi" serve --host "$HOST" --port "$PORT"
