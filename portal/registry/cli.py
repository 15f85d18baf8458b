"""`madoguchi registry`: import the city's resident register from CSV, or generate
synthetic residents for a demo."""
from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import click

from portal.cli import Context, pass_ctx, require_municipality
from portal.registry.importer import ImportFailed, import_registry_csv



class _Bars:
    """Renders the importer's progress(stage, done, total) as one click bar per stage."""

    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack
        self.bars: dict[str, object] = {}
        self.done: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.bars:
            bar = click.progressbar(length=max(total, 1), label=f"{stage}中", file=sys.stderr)
            self.bars[stage] = self.stack.enter_context(bar)
            self.done[stage] = 0
        bar = self.bars[stage]
        bar.length = max(bar.length, total)  # the row count is an estimate until the end
        bar.update(done - self.done[stage])
        self.done[stage] = done


@click.group(help="住民記録 / resident register.")
def registry() -> None:
    pass


@registry.command("import", help="CSVから住民記録を取り込みます / import residents from CSV "
                                 "(all-or-nothing; columns: docs/registry-csv.md).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--municipality", "code", required=True, help="団体コード")
@click.option("--encoding", type=click.Choice(["auto", "utf-8", "cp932"]), default="auto",
              show_default=True, help="文字コード（auto: UTF-8 か CP932 を判別）")
@pass_ctx
def import_(ctx: Context, file: Path, code: str, encoding: str) -> None:
    city = require_municipality(ctx, code)
    try:
        with ExitStack() as stack:
            result = import_registry_csv(ctx.db, city.id, file, encoding=encoding,
                                         progress=_Bars(stack))
    except ImportFailed as failed:
        for item in failed.errors:
            click.echo(str(item), err=True)
        more = "（多いため以降は省略）" if failed.truncated else ""
        raise click.ClickException(f"{len(failed.errors)}件のエラー{more}。"
                                   "何も登録していません / nothing was imported") from None
    click.echo(f"取り込みました（{city.name}、{result.encoding}）: 住民 {result.residents}人、"
               f"世帯 新規 {result.households_created}・既存 {result.households_reused}、"
               f"保護者 {result.guardian_links}件、印鑑登録 {result.seal_registrations}件、"
               f"課税 {result.tax_records}件")


@registry.command("generate", help="架空の住民を生成して登録します / generate synthetic residents "
                                   "(demo and test data only).")
@click.option("--municipality", "code", required=True, help="団体コード")
@click.option("--residents", type=click.IntRange(min=1), required=True, help="人数")
@click.option("--seed", type=int, default=0, show_default=True, help="乱数の種（同じ値なら同じデータ）")
@click.option("--start", type=click.IntRange(min=1), default=1, show_default=True,
              help="住民番号・世帯番号の開始値（追加で生成するとき）")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="基準日（年齢・年度の基準、既定は今日）")
@pass_ctx
def generate(ctx: Context, code: str, residents: int, seed: int, start: int, as_of) -> None:
    from portal.registry.synthetic import populate  # Faker only when generating
    city = require_municipality(ctx, code)
    day: date | None = as_of.date() if as_of else None
    try:
        with ExitStack() as stack:
            written = populate(ctx.db, city, residents, seed, _Bars(stack), as_of=day, start=start)
    except ImportFailed as failed:
        for item in failed.errors[:10]:
            click.echo(str(item), err=True)
        raise click.ClickException("生成したデータを登録できませんでした（--start で番号をずらしてください）"
                                   " / nothing was written") from None
    click.echo(f"架空の住民を {written}人 登録しました（{city.name}、seed={seed}）")
