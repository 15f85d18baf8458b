"""`madoguchi card refresh-crls`: fetch, check and index the configured CRLs, outside any
request. Run it from cron (every few minutes) and after publishing a CRL: every worker
uses the new index from its next request on, and sessions opened with a card it lists end."""
from __future__ import annotations

import click

from portal.cli import Context, pass_ctx


@click.command("refresh-crls", help="失効リスト（CRL）を取得・検証し、全ワーカーに反映します / "
                                    "fetch, verify and index the CRLs for every worker.")
@click.option("--force", is_flag=True, help="変更がなくても作り直す / re-index unchanged CRLs too.")
@pass_ctx
def refresh_crls(ctx: Context, force: bool) -> None:
    from portal.cards.services import validators
    if not ctx.app.config.get("CARD_TRUST_ANCHORS"):
        raise click.ClickException("CARD_TRUST_ANCHORS が設定されていません / no card login configured")
    lines = validators(ctx.app).crls.refresh(force=force)
    for line in lines:
        click.echo(line)
    if any(": unreadable" in line or ": refused" in line for line in lines):
        raise click.ClickException("読めない、または検証できない CRL があります / some CRLs were not indexed")


@click.group(help="カード / card login on the server.")
def card() -> None:
    pass


card.add_command(refresh_crls)
