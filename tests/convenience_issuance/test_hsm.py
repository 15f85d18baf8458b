"""The city's seal key in an HSM through PKCS#11, against SoftHSM2: a token of our own
(in a temporary SOFTHSM2_CONF), the commands that create, import, list and rotate keys,
and certificates issued through the terminal API signed by the token. The PIN comes from
the environment or a file and is never printed."""
from __future__ import annotations

import io
import os
import subprocess

import pytest
from click.testing import CliRunner
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from services.convenience_issuance.cli import cli
from services.convenience_issuance.signing import KeyRing, generate_municipal_key, signer_for
from tests.convenience_issuance.test_pdf import issue

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "5739-hsm-pin"
TOKEN = "madoguchi-test"


@pytest.fixture(scope="module")
def softhsm(tmp_path_factory):
    """A fresh SoftHSM2 token; SOFTHSM2_CONF is read when the library is first loaded."""
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN,
                    "--so-pin", "87654321"], check=True, capture_output=True)
    return conf


def run(*args, pin: str = PIN):
    result = CliRunner().invoke(cli, list(args) + ["--module", MODULE, "--token", TOKEN],
                                env={"MADOGUCHI_HSM_PIN": pin})
    assert PIN not in result.output
    return result


def create(label: str):
    result = run("hsm-create", "392049", "南国市", "--label", label)
    assert result.exit_code == 0, result.output
    return {"module": MODULE, "token": TOKEN, "label": label, "pin_env": "MADOGUCHI_HSM_PIN"}


@pytest.fixture
def token_ring(app, terminal, softhsm, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_HSM_PIN", PIN)

    def install(entry: dict) -> KeyRing:
        ring = KeyRing({"392049": entry}, allow_development=False)
        app.extensions["convenience_issuance.keys"] = ring
        return ring
    return install


def signed_by(pdf: bytes):
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    return signature


def valid_with(signature, certificate_pem: bytes) -> bool:
    status = validate_pdf_signature(signature, ValidationContext(
        trust_roots=list(load_certs_from_pemder_data(certificate_pem))))
    return status.intact and status.valid and status.trusted


def test_a_key_made_in_the_token_signs_issued_certificates(token_ring, terminal, hanako, bind_card):
    entry = create("392049-first")
    listed = run("hsm-list")
    assert listed.exit_code == 0 and "392049-first" in listed.output and "南国市長" in listed.output
    key = token_ring({"pkcs11": entry}).key_for("392049", "南国市")
    assert key.key_pem == b"" and key.token.label == "392049-first"
    assert PIN not in repr(key)
    assert type(signer_for(key)).__name__ == "PKCS11Signer"
    signature = signed_by(issue(terminal, bind_card(hanako), "juminhyo"))
    assert valid_with(signature, key.certificate_pem)
    assert "南国市" in signature.signer_cert.subject.human_friendly


def test_rotation_keeps_old_certificates_verifying(token_ring, terminal, hanako, bind_card):
    old_key = token_ring({"pkcs11": create("392049-old")}).key_for("392049", "南国市")
    old_pdf = issue(terminal, bind_card(hanako), "juminhyo")
    rotated = run("hsm-rotate", "392049", "南国市")
    assert rotated.exit_code == 0, rotated.output
    new_label = rotated.output.split("key created: ")[1].split()[0]
    assert new_label != "392049-old"
    new_key = token_ring({"pkcs11": {**old_key.token.__dict__, "label": new_label,
                                     "pin_env": "MADOGUCHI_HSM_PIN"}}).key_for("392049", "南国市")
    from tests.convenience_issuance.conftest import Terminal
    from tests.conftest import https_client
    again = Terminal(https_client(terminal.client.application), "392049", "store-0002")
    new_pdf = issue(again, bind_card(hanako), "juminhyo_kisai")
    assert valid_with(signed_by(old_pdf), old_key.certificate_pem)      # still verifies
    assert valid_with(signed_by(new_pdf), new_key.certificate_pem)
    assert not valid_with(signed_by(new_pdf), old_key.certificate_pem)  # signed by the new key
    labels = run("hsm-list").output
    assert "392049-old" in labels and new_label in labels


def test_an_existing_key_file_can_be_imported(token_ring, terminal, hanako, bind_card, tmp_path):
    made = generate_municipal_key("南国市", "392049")
    (tmp_path / "k.pem").write_bytes(made.key_pem)
    (tmp_path / "c.pem").write_bytes(made.certificate_pem)
    result = run("hsm-import", "392049", str(tmp_path / "k.pem"), str(tmp_path / "c.pem"),
                 "--label", "392049-imported")
    assert result.exit_code == 0, result.output
    token_ring({"pkcs11": {"module": MODULE, "token": TOKEN, "label": "392049-imported",
                           "pin_env": "MADOGUCHI_HSM_PIN"}})
    assert valid_with(signed_by(issue(terminal, bind_card(hanako), "juminhyo")), made.certificate_pem)


def test_a_wrong_pin_is_one_line_and_never_echoed(softhsm):
    """In a process of its own (a PKCS#11 login is per process, as for an operator)."""
    import sys
    result = subprocess.run(
        [sys.executable, "-c", "from services.convenience_issuance.cli import cli; cli()",
         "hsm-list", "--module", MODULE, "--token", TOKEN, "--pin-env", "WRONG_PIN"],
        capture_output=True, text=True, env={**os.environ, "WRONG_PIN": "99999999"})
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "PIN" in output and "99999999" not in output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1


def test_an_unusable_token_means_no_certificate_not_an_error_page(token_ring, terminal, hanako,
                                                                   bind_card, monkeypatch):
    token_ring({"pkcs11": {"module": MODULE, "token": "no-such-token", "label": "x",
                           "pin_env": "MADOGUCHI_HSM_PIN"}})
    assert terminal.start(bind_card(hanako)).status_code == 201
    terminal.quote("juminhyo")
    assert terminal.pay("no-token-0001", 200).status_code == 201
    response = terminal.pdf()
    assert response.status_code == 503 and response.get_json()["error"] == "signing_unavailable"
