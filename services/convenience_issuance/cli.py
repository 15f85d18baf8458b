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
