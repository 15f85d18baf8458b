"""The virtual card as OpenSC sees a real one: Debian's `opensc` (its JPKI driver, card-jpki.c
and pkcs15-jpki.c, and its PKCS#11 module) through pcscd and vpcd, as on a desk with a contact
reader. One card is served for the module; each tool connects afresh, as a user's would.

No forcing: the system's opensc.conf, no `-c jpki`, no card_drivers list."""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from madoguchi_smartcard.cli import card as card_cli
from madoguchi_smartcard.constants import CONTACT_ATR

pytestmark = pytest.mark.card
READER = "Virtual PCD 00 00"   # reader A of the conftest
REAL_ATR = "3b:e0:00:ff:81:31:fe:45:14"


def opensc(*args: str, expect: int = 0, debug: bool = False) -> subprocess.CompletedProcess:
    if shutil.which(args[0]) is None:
        pytest.fail(f"{args[0]} missing: scripts/system-deps.sh installs Debian's opensc",
                    pytrace=False)
    env = {**os.environ, "OPENSC_DEBUG": "9"} if debug else None
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)
    assert (done.returncode == 0) == (expect == 0), (args, done.stdout, done.stderr[-2000:])
    return done


@pytest.fixture(scope="module")
def pkcs11_module() -> str:
    found = glob.glob("/usr/lib/*/opensc-pkcs11.so")  # Debian's opensc-pkcs11, per architecture
    assert found, "opensc-pkcs11.so missing: scripts/system-deps.sh installs Debian's opensc"
    return found[0]


def pins_left(label: str) -> int:
    listed = opensc("pkcs15-tool", "-r", READER, "--list-pins").stdout
    found = re.search(rf"PIN \[{re.escape(label)}\].*?Tries left\s*:\s*(\d+)", listed, re.S)
    assert found, listed
    return int(found.group(1))


def test_opensc_reads_the_real_atr_and_names_the_jpki_driver_by_it(module_card):
    assert CONTACT_ATR.hex(":") == REAL_ATR
    assert opensc("opensc-tool", "-r", READER, "-a").stdout.strip() == REAL_ATR
    named = opensc("opensc-tool", "-r", READER, "-n", debug=True)
    assert named.stdout.strip() == "jpki"
    # The JPKI driver matched on its ATR table, not on its fallback (a SELECT of the AP).
    jpki_match = named.stderr.split("trying driver 'jpki'")[1].split("matched:")[0]
    assert "match_atr_table" in jpki_match and "jpki_select_ap" not in jpki_match


def test_pkcs15_tool_reads_the_certificate_madoguchi_reads(module_card):
    pem = opensc("pkcs15-tool", "-r", READER, "--read-certificate", "01").stdout
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)
    ours = CliRunner().invoke(card_cli, ["read-cert", "--reader", READER])
    assert ours.exit_code == 0, ours.output
    assert f"SHA-256: {hashlib.sha256(der).hexdigest()}" in ours.output
    assert der == module_card.auth.certificate


def test_the_signing_certificate_needs_the_signing_password(module_card):
    refused = opensc("pkcs15-tool", "-r", READER, "--read-certificate", "02", expect=1)
    assert "BEGIN CERTIFICATE" not in refused.stdout   # the card answered 69 82
    pem = opensc("pkcs15-tool", "-r", READER, "--verify-pin", "--auth-id", "02",
                 "--pin", module_card.password, "--read-certificate", "02").stdout
    assert (x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)
            == module_card.signing.certificate)


@pytest.mark.parametrize("slot, key, secret", [
    ([], "auth", "pin"),                                    # the default: the first slot
    (["--slot-index", "1"], "signing", "password"),
])
def test_pkcs11_tool_signs_and_openssl_verifies(module_card, pkcs11_module, tmp_path, slot, key,
                                               secret):
    message, signature = tmp_path / "message", tmp_path / "signature"
    message.write_bytes("南国市 申請書 2026".encode())
    opensc("pkcs11-tool", "--module", pkcs11_module, *slot, "--login",
           "--pin", getattr(module_card, secret), "--sign", "-m", "SHA256-RSA-PKCS",
           "-i", str(message), "-o", str(signature))
    cert = tmp_path / "cert.der"
    cert.write_bytes(getattr(module_card, key).certificate)
    public_key = tmp_path / "public.pem"
    subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(cert), "-pubkey", "-noout",
                    "-out", str(public_key)], check=True)
    verified = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(public_key),
                               "-signature", str(signature), str(message)],
                              capture_output=True, text=True)
    assert verified.returncode == 0 and "Verified OK" in verified.stdout, verified


def test_a_wrong_pin_shows_one_try_fewer_and_the_right_pin_restores(module_card, pkcs11_module):
    label = "User Authentication PIN"
    assert pins_left(label) == 3
    wrong = opensc("pkcs11-tool", "--module", pkcs11_module, "--login", "--pin", "9999",
                   "--list-objects", expect=1)
    assert "CKR_PIN_INCORRECT" in wrong.stdout + wrong.stderr
    assert pins_left(label) == 2 and module_card.counters.auth_pin == 2
    flags = opensc("pkcs11-tool", "--module", pkcs11_module, "--list-token-slots").stdout
    assert "user PIN count low" in flags
    opensc("pkcs11-tool", "--module", pkcs11_module, "--login", "--pin", module_card.pin,
           "--list-objects")
    assert pins_left(label) == 3 and module_card.counters.auth_pin == 3
