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
echo "窓口ポータル / portal: http://$HOST:$PORT/    キオスク / kiosk: http://$HOST:$PORT/kiosk/demo-kiosk"
"$BIN/madoguchi" serve --host "$HOST" --port "$PORT"
