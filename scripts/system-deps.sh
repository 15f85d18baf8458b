#!/usr/bin/env bash
# Debian packages Madoguchi needs beyond Python: the PC/SC stack and the virtual reader
# driver (card side), OpenSC (the tests check the virtual card as OpenSC's JPKI driver sees
# a real one), the headless browser (page tests), PDF tools, Japanese fonts and
# wrk (bench/load.py).
# Installs what is missing when run as root; otherwise says what to install.
set -euo pipefail
PACKAGES=(pcscd vsmartcard-vpcd libpcsclite-dev swig pcsc-tools opensc
          chromium chromium-driver poppler-utils fonts-ipaexfont-gothic fonts-ipaexfont-mincho
          softhsm2 wrk)  # softhsm2: the seal key in an HSM; wrk: bench/load.py
missing=()
# Node.js and npm run the OIDC tests' relying party (openid-client); any source will do.
command -v npm >/dev/null || missing+=(nodejs npm)
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "必要なパッケージをインストールしてください / please install: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
