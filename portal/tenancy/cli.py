from __future__ import annotations

import json

import click
from sqlalchemy import select

from portal.cli import Context, pass_ctx
from portal.tenancy.models import Municipality
from portal.tenancy.services import InvalidMunicipalityCode, add_municipality


@click.group(help="参加団体 / member municipalities.")
def municipality() -> None:
    pass


@municipality.command("add", help="団体を追加します / add a municipality.")
@click.argument("code")
@click.argument("name")
@click.option("--name-en", default="")
@click.option("--prefecture", default="")
@click.option("--population", type=int, default=0)
@click.option("--service", "services", multiple=True, help="利用するサービス（複数可）")
@pass_ctx
def add(ctx: Context, code, name, name_en, prefecture, population, services) -> None:
    try:
        with ctx.db.transaction() as s:
            city = add_municipality(s, code, name, name_en=name_en, prefecture=prefecture,
                                    population=population, settings={"services": list(services)})
    except (InvalidMunicipalityCode, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"追加しました: {city.code} {city.name}")


@municipality.command("list", help="団体の一覧 / list municipalities.")
@pass_ctx
def list_(ctx: Context) -> None:
    with ctx.db.transaction() as s:
        for m in s.scalars(select(Municipality).order_by(Municipality.code)):
            click.echo(f"{m.code}\t{m.name}\t{m.population}\t{json.dumps(m.settings, ensure_ascii=False)}")
