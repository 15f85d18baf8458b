"""`madoguchi convenience_issuance …`: operations a scheduler runs."""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import click
from sqlalchemy import select

from portal.api import CliContext, Municipality, pass_ctx
from services.convenience_issuance.issuance import expire_requests


@click.group(help="コンビニ交付 / convenience-store certificates.")
def cli() -> None:
    pass


@cli.command("expire", help="期限切れの交付要求を解放します（定期実行）/ release abandoned requests.")
@pass_ctx
def expire(ctx: CliContext) -> None:
    """Abandoned requests also expire when next touched; this sweep releases them (token
    and stored PDF dropped) even if no terminal comes back, e.g. every minute from cron."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with ctx.db.transaction() as s:
        cities = s.scalars(select(Municipality).order_by(Municipality.code)).all()
    total = 0
    for city in cities:
        with ctx.db.transaction(city.id) as s:
            count = expire_requests(s, now)
        total += count
        if count:
            click.echo(f"{city.code} {city.name}: {count}")
    click.echo(f"解放した交付要求 / released: {total}")


@cli.command("tsa-serve", help="テスト用の時刻認証局（TSA）と CRL を起動します / serve the test TSA and CRL.")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=35991, show_default=True)
def tsa_serve(directory: Path, host: str, port: int) -> None:
    """For tests and the demo only: the PKI is made in DIRECTORY on first use (root.pem is
    the trust root to configure as MADOGUCHI_TSA_TRUST_ROOTS)."""
    from services.convenience_issuance.testtsa import TrustServiceApp, TrustServices, serve_in_thread
    app = TrustServiceApp()
    try:
        server, url = serve_in_thread(app, host, port)
    except OSError as exc:
        raise click.ClickException(f"ポート {port} を使えません / cannot listen on {host}:{port}: "
                                   f"{exc.strerror}") from None
    exists = (directory / "tsa.pem").is_file()
    app.services = TrustServices.open(directory) if exists else TrustServices.create(directory, url)
    click.echo(f"時刻認証局 / TSA: {app.services.tsa_url}  (Ctrl+C で終了)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


def token_options(command):
    """--module, --token and where the PIN is (an environment variable or a file)."""
    for option in reversed([
            click.option("--module", envvar="MADOGUCHI_PKCS11_MODULE", required=True,
                         help="PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so"),
            click.option("--token", required=True, help="token label"),
            click.option("--pin-env", default="MADOGUCHI_HSM_PIN", show_default=True,
                         help="environment variable holding the user PIN"),
            click.option("--pin-file", type=click.Path(dir_okay=False), default=None,
                         help="file holding the user PIN (instead of --pin-env)")]):
        command = option(command)
    return command


def token_entry(module: str, token: str, label: str, pin_env: str, pin_file: str | None) -> dict:
    entry = {"module": module, "token": token, "label": label}
    entry.update({"pin_file": pin_file} if pin_file else {"pin_env": pin_env})
    return entry


def open_token_key(entry: dict):
    from services.convenience_issuance import hsm
    try:
        return hsm.token_key(entry)
    except hsm.TokenProblem as exc:
        raise click.ClickException(str(exc)) from None


def echo_entry(code: str, entry: dict) -> None:
    """The configuration to use the key (the PIN itself is never printed)."""
    import json
    click.echo(f"CONVENIENCE_SIGNING_KEYS[\"{code}\"] = " + json.dumps({"pkcs11": entry}, ensure_ascii=False))


@cli.command("hsm-create", help="HSM の中で市の公印鍵を作ります / create a city's seal key in a token.")
@click.argument("code")
@click.argument("city_name")
@click.option("--label", default=None, help="key label (default: CODE-YYYYMMDDHHMMSS)")
@click.option("--days", default=3650, show_default=True)
@token_options
def hsm_create(code, city_name, label, days, module, token, pin_env, pin_file) -> None:
    from services.convenience_issuance import hsm
    label = label or f"{code}-{datetime.now(timezone.utc):%Y%m%d%H%M%S}"
    entry = token_entry(module, token, label, pin_env, pin_file)
    try:
        hsm.create_key(open_token_key(entry), city_name, code, days)
    except hsm.TokenProblem as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"鍵を作成しました / key created: {label}")
    echo_entry(code, entry)


@cli.command("hsm-import", help="鍵ファイルを HSM に取り込みます / import a key file into a token.")
@click.argument("code")
@click.argument("key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("certificate_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--label", required=True)
@token_options
def hsm_import(code, key_file, certificate_file, label, module, token, pin_env, pin_file) -> None:
    from services.convenience_issuance import hsm
    entry = token_entry(module, token, label, pin_env, pin_file)
    try:
        hsm.import_key(open_token_key(entry), key_file.read_bytes(), certificate_file.read_bytes())
    except (hsm.TokenProblem, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"取り込みました（鍵ファイルは削除してください）/ imported {label}; delete {key_file}")
    echo_entry(code, entry)


@cli.command("hsm-list", help="HSM の鍵を一覧します / list the keys in a token.")
@token_options
def hsm_list(module, token, pin_env, pin_file) -> None:
    from services.convenience_issuance import hsm
    key = open_token_key(token_entry(module, token, "-", pin_env, pin_file))
    try:
        rows = hsm.list_keys(key.module, key.token, key.pin)
    except hsm.TokenProblem as exc:
        raise click.ClickException(str(exc)) from None
    for label, subject, not_after in rows:
        click.echo(f"{label}\t{not_after:%Y-%m-%d}\t{subject}")


@cli.command("hsm-rotate", help="新しい鍵に切り替えます（古い鍵は残します）/ rotate to a new key, keeping the old.")
@click.argument("code")
@click.argument("city_name")
@click.option("--days", default=3650, show_default=True)
@token_options
@click.pass_context
def hsm_rotate(ctx, code, city_name, days, module, token, pin_env, pin_file) -> None:
    """Certificates already issued carry their own signing certificate and keep verifying;
    the old key stays in the token (delete it only when no verifier needs it)."""
    ctx.invoke(hsm_create, code=code, city_name=city_name, label=None, days=days, module=module,
               token=token, pin_env=pin_env, pin_file=pin_file)
    click.echo("設定の label を新しい鍵に変えてください / point the configuration at the new label")
