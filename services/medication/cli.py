"""`madoguchi medication …`: the drug code master (national data, loaded once for every
city of the deployment)."""
from __future__ import annotations

from pathlib import Path

import click

from portal.api import Actor, CliContext, pass_ctx


@click.group(help="お薬手帳 / medication notebook.")
def cli() -> None:
    pass


@cli.group(help="医薬品コードのマスター / drug code master (MEDIS-DC HOT, 支払基金).")
def master() -> None:
    pass


@master.command("load", help="医薬品HOTコードマスター（MEDIS-DC）または支払基金 医薬品マスターの"
                             "CSV を読み込みます / load a published drug code master (CSV, CP932).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--allow-older", is_flag=True,
              help="読み込み済みより古い版でも置き換えます / go back to an older release.")
@click.option("--actor", default="cli", help="記録する実施者名")
@pass_ctx
def load(ctx: CliContext, file: Path, allow_older: bool, actor: str) -> None:
    from services.medication import drug_master
    from services.medication.master_files import MasterFileError, read_master
    try:
        parsed = read_master(file.read_bytes(), file.name)
        with ctx.unit(actor=Actor("system", None, actor, "cli")) as db:
            outcome = drug_master.load(db, parsed, actor, allow_older=allow_older)
            version = outcome.version
            summary = (f"{drug_master.SOURCE_NAMES[version.source]} {version.version_date:%Y-%m-%d} 版"
                       f"（{version.file_name}、{version.records} 行、コード {version.codes} 件）")
    except MasterFileError as exc:
        raise click.ClickException(f"{file.name} は読み込みませんでした / refused:\n"
                                   + "\n".join(exc.problems)) from None
    except drug_master.MasterRefused as exc:
        raise click.ClickException(str(exc)) from None
    if outcome.status == "unchanged":
        click.echo(f"読み込み済みです（変更なし）/ already loaded, nothing changed: {summary}")
    elif outcome.status == "replaced":
        click.echo(f"{outcome.previous_date:%Y-%m-%d} 版を置き換えました / replaced: {summary}")
    else:
        click.echo(f"読み込みました / loaded: {summary}")


@master.command("status", help="読み込み済みのマスターの版 / the loaded masters' versions.")
@pass_ctx
def status(ctx: CliContext) -> None:
    from services.medication import drug_master
    with ctx.unit() as db:
        loaded = [(drug_master.SOURCE_NAMES[v.source], v.version_date, v.file_name, v.codes,
                   v.loaded_at) for v in drug_master.versions(db)]
    if not loaded:
        click.echo("薬品マスタは読み込まれていません / no drug code master loaded")
    for title, day, name, codes, at in loaded:
        click.echo(f"{title}: {day:%Y-%m-%d} 版 {name}（コード {codes} 件、{at:%Y-%m-%d %H:%M} UTC 読込）")
