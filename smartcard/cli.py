"""Support-desk commands: ``card`` (readers, cards, the virtual card) and ``pki`` (test PKI).

The portal's ``madoguchi`` command adds both groups.  Messages are Japanese
first, English second.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import sys
import threading
from pathlib import Path

import click

from . import errors


def _fail(exc: errors.CardError) -> None:
    raise click.ClickException(f"{exc.message_ja} / {exc}")


# -- card ----------------------------------------------------------------------------------

@click.group()
def card() -> None:
    """カードとカードリーダー / cards and readers."""


@card.command()
@click.argument("profile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--port", default=35963, show_default=True, help="vpcd port (one per virtual reader)")
@click.option("--latency-ms", default=0.0, show_default=True, help="delay per APDU")
@click.option("--host", default="127.0.0.1", show_default=True)
def serve(profile: Path, port: int, latency_ms: float, host: str) -> None:
    """仮想マイナンバーカードを vpcd に接続します / serve a virtual card to pcscd via vpcd."""
    from .profile import CardProfile
    from .vpcd import VirtualCardServer

    server = VirtualCardServer(CardProfile.load(profile), host=host, port=port,
                               latency_s=latency_ms / 1000).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"仮想カードを {host}:{port} に挿入しました (Ctrl-C で終了) / card served on {host}:{port}")
    if _may_read_stdin():
        click.echo("操作 / commands: " + ", ".join(CONTROL_HELP))
        threading.Thread(target=control_loop, args=(server, click.get_text_stream("stdin"), stop),
                         daemon=True).start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        click.echo("仮想カードを取り外しました / card removed")


CONTROL_HELP = ("remove", "insert", "garble [N]", "drop N", "latency MS", "quit")


def _may_read_stdin() -> bool:
    """A pipe, a file, or a terminal we are in the foreground of: a job started with '&'
    that read its terminal would be stopped by the shell, and the card with it."""
    stdin = sys.stdin
    if stdin is None or stdin.closed:
        return False
    if not stdin.isatty():
        return True
    try:
        return os.tcgetpgrp(stdin.fileno()) == os.getpgrp()
    except OSError:
        return False


def control_loop(server, lines, stop: threading.Event) -> None:
    """Commands typed while the card is served, one per line: a support desk or a test can
    pull the card out, put it back, make it slow or faulty. End of input changes nothing (a
    card served from a script keeps running until SIGTERM)."""
    try:
        for line in lines:
            if not _obey(server, line, stop):
                return
    except (OSError, ValueError):  # the input went away (closed terminal, closed pipe)
        return


def _obey(server, line: str, stop: threading.Event) -> bool:
    """Carry out one command line; False when told to quit."""
    words = line.split()
    if words:
        try:
            numbers = [int(w) for w in words[1:]]
            if any(n < 0 for n in numbers):
                raise ValueError("negative")
            reply = _control(server, words[0], numbers)
        except (ValueError, IndexError):
            reply = f"使い方 / usage: {', '.join(CONTROL_HELP)}（数は0以上 / numbers 0 or more）"
        except TimeoutError as exc:
            reply = f"挿入できません / cannot insert: {exc}"
        if reply is None:
            stop.set()
            return False
        click.echo(reply)
    return True


def _control(server, command: str, numbers: list[int]) -> str | None:
    if command == "remove":
        server.remove()
        return "カードを取り外しました / card removed"
    if command == "insert":
        server.insert()
        return "カードを挿入しました / card inserted"
    if command == "garble":
        server.garble_next(numbers[0] if numbers else 1)
        return "次の応答を壊します / next answer garbled"
    if command == "drop":
        server.drop_after(numbers[0])
        return f"{numbers[0]} 個目の APDU で抜きます / card pulled at APDU {numbers[0]} from now"
    if command == "latency":
        server.latency_s = numbers[0] / 1000
        return f"APDU ごとに {numbers[0]} ms / {numbers[0]} ms per APDU"
    if command == "quit":
        return None
    raise ValueError(command)


@card.command()
@click.option("--reader", default=None, help="reader name (default: every reader)")
def status(reader: str | None) -> None:
    """リーダー・カード・暗証番号の残り回数 / readers, card, token label, PIN tries left."""
    from . import readers as pcsc

    try:
        states = pcsc.default_context().reader_states()
    except errors.CardError as exc:
        _fail(exc)
    if not states:
        _fail(errors.ReaderUnavailable())
    for name, state in states.items():
        if reader is None or name == reader:
            click.echo(_describe_reader(name, pcsc.card_present(state)))


def _describe_reader(name: str, present: bool) -> str:
    if not present:
        return f"{name}: カードなし / no card"
    from . import readers as pcsc
    from .jpki import JPKICard

    try:
        with pcsc.PcscTransport(name) as transport:
            jpki = JPKICard(transport)
            if not jpki.is_mynumber_card():
                return f"{name}: マイナンバーカードではありません / not a My Number card"
            label, tries = jpki.read_token_label(), jpki.auth_pin_tries_left()
    except errors.CardError as exc:
        return f"{name}: {exc.message_ja} / {exc}"
    return (f"{name}: マイナンバーカード / My Number card  label={label}  "
            f"利用者証明用暗証番号の残り回数 / auth PIN tries left={tries}")


@card.command("read-cert")
@click.option("--reader", default=None, help="reader name (default: first reader with a card)")
@click.option("--which", type=click.Choice(["auth", "auth-ca", "signing-ca"]), default="auth",
              show_default=True)
@click.option("--timeout", default=10.0, show_default=True, help="seconds to wait for a card")
def read_cert(reader: str | None, which: str, timeout: float) -> None:
    """証明書の内容を表示します / print subject, issuer, validity, serial, SHA-256 fingerprint."""
    from . import readers as pcsc

    try:
        with pcsc.open_card(reader, timeout_s=timeout) as jpki:
            der = {"auth": jpki.read_auth_certificate, "auth-ca": jpki.read_auth_ca_certificate,
                   "signing-ca": jpki.read_signing_ca_certificate}[which]()
    except errors.CardError as exc:
        _fail(exc)
    click.echo(describe_certificate(der))


def describe_certificate(der: bytes) -> str:
    """The lines a support desk needs to identify a certificate."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return "\n".join([
        f"主体者 / subject: {cert.subject.rfc4514_string()}",
        f"発行者 / issuer: {cert.issuer.rfc4514_string()}",
        f"有効期間 / validity: {cert.not_valid_before_utc.isoformat()} – {cert.not_valid_after_utc.isoformat()}",
        f"シリアル番号 / serial: {cert.serial_number:x}",
        f"SHA-256: {hashlib.sha256(der).hexdigest()}",
    ])


# -- pki -------------------------------------------------------------------------------------

@click.group()
def pki() -> None:
    """テスト用 JPKI 認証局 / the JPKI-shaped test PKI (tests and demonstrations only)."""


def _open(directory: Path):
    from .testpki import TestPKI

    try:
        return TestPKI.open(directory)
    except FileNotFoundError as exc:
        raise click.ClickException(f"テスト認証局がありません / {exc}") from None


@pki.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """ルート証明書（2世代）を作成します / create the auth and signing roots, two generations."""
    from .testpki import TestPKI

    if (directory / "pki.json").exists():
        raise click.ClickException(f"既に作成済みです / already initialised: {directory}")
    TestPKI.create(directory)
    click.echo(f"テスト認証局を作成しました / test PKI created in {directory}")


@pki.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--name", required=True, help="氏名 (surname U+3000 given name)")
@click.option("--birth-date", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--sex", type=click.Choice(["1", "2", "3"]), default="1", show_default=True)
@click.option("--address", required=True)
@click.option("--name-kana", default=None)
@click.option("--pin", default="1234", show_default=True)
@click.option("--password", default="ABC123", show_default=True)
@click.option("--prefecture", default="Tokyo-to", show_default=True)
@click.option("--city", default="Chiyoda-ku", show_default=True)
@click.option("--generation", type=click.Choice(["1", "2"]), default="2", show_default=True)
@click.option("--no-signing", is_flag=True, help="no signing certificate (under 15)")
@click.option("--name-substitutes", default="", help="代替文字の位置（氏名） e.g. 1,3")
@click.option("--address-substitutes", default="", help="代替文字の位置（住所）")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def issue(directory: Path, name: str, birth_date: dt.datetime, sex: str, address: str,
          name_kana: str | None, pin: str, password: str, prefecture: str, city: str,
          generation: str, no_signing: bool, name_substitutes: str, address_substitutes: str,
          out: Path | None) -> None:
    """カードを発行します（プロファイルJSON） / issue a card profile."""
    try:
        profile = _open(directory).issue_card(
            name=name, birth_date=birth_date.date(), sex=sex, address=address, name_kana=name_kana,
            pin=pin, password=password, partition=(prefecture, city), generation=int(generation),
            with_signing=not no_signing, path=out, name_substitutes=name_substitutes,
            address_substitutes=address_substitutes)
    except errors.CardError as exc:
        _fail(exc)
    click.echo(f"発行しました / issued: {profile.path}")
    click.echo(f"利用者証明用 / auth serial: {profile.meta['auth_serial']:x}")
    if profile.meta["signing_serial"] is not None:
        click.echo(f"署名用 / signing serial: {profile.meta['signing_serial']:x}")


@pki.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("serial")
def revoke(directory: Path, serial: str) -> None:
    """証明書を失効させます（シリアルは16進） / revoke a certificate (serial in hex)."""
    try:
        number = int(serial.removeprefix("0x").replace(":", ""), 16)
        revocation = _open(directory).revoke(number)
    except (ValueError, KeyError) as exc:
        raise click.ClickException(f"シリアル番号が見つかりません / unknown serial: {exc}") from None
    click.echo(f"失効しました / revoked: {revocation.kind} {revocation.serial:x}")


@pki.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--next-update-hours", default=24.0, show_default=True)
def crl(directory: Path, next_update_hours: float) -> None:
    """CRL を発行します（認証局・区画ごと） / publish CRLs per root and partition."""
    authority = _open(directory)
    for path in authority.write_crls(next_update=dt.timedelta(hours=next_update_hours)):
        click.echo(str(path))


@pki.command("big-crl")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--entries", default=1_000_000, show_default=True)
@click.option("--kind", type=click.Choice(["auth", "signing"]), default="auth", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def big_crl(directory: Path, entries: int, kind: str, out: Path | None) -> None:
    """ベンチマーク用の巨大な CRL を書き出します / write a huge CRL for benchmarks."""
    target = out or directory / "crl" / f"{kind}-big-{entries}.crl"
    path = _open(directory).write_big_crl(target, entries, kind=kind)
    click.echo(f"{path} ({path.stat().st_size:,} bytes)")


@pki.command("ocsp-serve")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=35990, show_default=True)
def ocsp_serve(directory: Path, host: str, port: int) -> None:
    """テスト用 OCSP レスポンダを起動します / serve OCSP answers for the test PKI over HTTP."""
    from wsgiref.simple_server import make_server

    from .testocsp import OcspResponder

    _open(directory)  # fail now, with a message, rather than on the first request
    try:
        server = make_server(host, port, OcspResponder(lambda: _open(directory)))
    except OSError as exc:
        raise click.ClickException(f"ポート {port} を使えません / cannot listen on {host}:{port}: "
                                   f"{exc.strerror}") from None
    click.echo(f"OCSP レスポンダ / OCSP responder: http://{host}:{port}/  (Ctrl+C で終了)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":  # python -m madoguchi_smartcard.cli card serve PROFILE
    click.Group(commands={"card": card, "pki": pki})()
