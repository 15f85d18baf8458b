"""`madoguchi convenience_issuance …`: operations a scheduler runs."""
from __future__ import annotations

from datetime import datetime, timezone

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
