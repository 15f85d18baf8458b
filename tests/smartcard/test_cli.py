"""Support-desk commands: pki init/issue/revoke/crl/big-crl and card serve."""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from madoguchi_smartcard.cli import card, pki
from madoguchi_smartcard.jpki import JPKICard
from madoguchi_smartcard.profile import CardProfile

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cli-pki")
    result = CliRunner().invoke(pki, ["init", str(directory)])
    assert result.exit_code == 0, result.output
    assert "作成しました" in result.output
    return directory


def issue(pki_dir, *extra):
    result = CliRunner().invoke(pki, ["issue", str(pki_dir), "--name", "鈴木　一郎", "--birth-date", "1970-01-02",
                                      "--address", "北海道札幌市中央区北１条西２丁目", *extra])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.splitlines())
    return Path(lines["発行しました / issued"]), lines["利用者証明用 / auth serial"]


def test_init_twice_is_refused(pki_dir):
    result = CliRunner().invoke(pki, ["init", str(pki_dir)])
    assert result.exit_code != 0 and "既に" in result.output


def test_issue_revoke_and_publish(pki_dir):
    profile_path, serial = issue(pki_dir, "--prefecture", "Hokkaido", "--city", "Sapporo-shi")
    assert CardProfile.load(profile_path).card_info.name == "鈴木　一郎"
    result = CliRunner().invoke(pki, ["revoke", str(pki_dir), serial])
    assert result.exit_code == 0 and "失効しました" in result.output
    result = CliRunner().invoke(pki, ["crl", str(pki_dir)])
    assert result.exit_code == 0, result.output
    crl_path = next(p for p in result.output.split() if "auth-g2-Hokkaido" in p)
    crl = x509.load_der_x509_crl(Path(crl_path).read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None


def test_bad_pin_and_unknown_serial_are_refused_in_japanese(pki_dir):
    result = CliRunner().invoke(pki, ["issue", str(pki_dir), "--name", "x", "--birth-date", "1970-01-02",
                                      "--address", "y", "--pin", "12"])
    assert result.exit_code != 0 and "数字4桁" in result.output
    result = CliRunner().invoke(pki, ["revoke", str(pki_dir), "abcdef"])
    assert result.exit_code != 0 and "見つかりません" in result.output


def test_big_crl(pki_dir, tmp_path):
    result = CliRunner().invoke(pki, ["big-crl", str(pki_dir), "--entries", "5000", "--out", str(tmp_path / "b.crl")])
    assert result.exit_code == 0, result.output
    assert len(x509.load_der_x509_crl((tmp_path / "b.crl").read_bytes())) >= 5000


@pytest.mark.card
def test_card_serve_puts_a_card_in_a_reader(pki_dir, pcsc_stack):
    profile_path, _ = issue(pki_dir)
    process = subprocess.Popen([sys.executable, "-m", "madoguchi_smartcard.cli", "card", "serve", str(profile_path),
                                "--port", "35964", "--latency-ms", "1"], cwd=REPO,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        reader = pcsc_stack.wait_for_card("Virtual PCD 00 01", timeout_s=15)
        with pcsc_stack.PcscTransport(reader) as transport:
            assert JPKICard(transport).read_auth_certificate() == CardProfile.load(profile_path).auth.certificate
    finally:
        process.terminate()
        process.wait(timeout=10)
    pcsc_stack.wait_for_removal("Virtual PCD 00 01", timeout_s=10)
    assert "挿入しました" in process.stdout.read()


@pytest.mark.card
def test_card_serve_takes_commands_while_serving(pki_dir, pcsc_stack):
    """Typed commands pull the card out, put it back and garble an answer, through pcscd."""
    from madoguchi_smartcard import errors
    profile_path, _ = issue(pki_dir)
    process = subprocess.Popen([sys.executable, "-m", "madoguchi_smartcard.cli", "card", "serve", str(profile_path),
                                "--port", "35964"], cwd=REPO, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def command(line: str) -> None:
        process.stdin.write(line + "\n")
        process.stdin.flush()

    try:
        reader = pcsc_stack.wait_for_card("Virtual PCD 00 01", timeout_s=15)
        command("remove")
        pcsc_stack.wait_for_removal(reader, timeout_s=10)
        command("nonsense")
        command("insert")
        pcsc_stack.wait_for_card(reader, timeout_s=10)
        with pcsc_stack.PcscTransport(reader) as transport:
            jpki = JPKICard(transport)
            jpki.select_jpki()
            command("latency -5")        # refused: a negative delay would kill the card
            command("garble")
            seen = read_until(process, "次の応答を壊します")  # the other process has taken it
            with pytest.raises(errors.UnexpectedAnswer):
                jpki.read_token_label()
            assert jpki.read_token_label() == "JPKIAPICCTOKEN2"
        command("quit")
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
    pcsc_stack.wait_for_removal("Virtual PCD 00 01", timeout_s=10)
    output = seen + process.stdout.read()
    assert "取り外しました" in output and output.count("使い方") == 2


def read_until(process, text: str) -> str:
    """The served card's lines up to the one holding `text` (each reply is flushed)."""
    lines = []
    for line in process.stdout:
        lines.append(line)
        if text in line:
            return "".join(lines)
    raise AssertionError(f"{text!r} never printed: {''.join(lines)}")


def test_ocsp_serve_on_a_busy_port_says_so_in_one_line(pki_dir):
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(pki, ["ocsp-serve", str(pki_dir), "--port", str(port)])
    assert result.exit_code == 1 and "使えません" in result.output
    assert "Traceback" not in result.output
