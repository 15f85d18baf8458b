"""`madoguchi cloud …`: admit, export, import and delete member cities; the worked
example; the apportionment report; receipts."""
from __future__ import annotations

import json
from pathlib import Path

import click

from portal.cli import Context, pass_ctx
from portal.fonts import FontMissing
from portal.jointcloud import config, example, leaving, receipt, report, services
from portal.jointcloud.apportion import ApportionmentError
from portal.jointcloud.config import ConfigInvalid
from portal.jointcloud.membership import join as join_city
from portal.tenancy.assets import assets_dir


def _key(ctx: Context):
    path = ctx.app.config.get("CLOUD_RECEIPT_KEY_FILE") or str(
        Path(ctx.app.instance_path) / "cloud-receipt-ed25519.pem")
    return receipt.load_or_create_key(Path(path))


def _fail(exc: Exception) -> click.ClickException:
    problems = getattr(exc, "problems", None) or [str(exc)]
    return click.ClickException("\n".join(problems))


@click.group(help="共同利用の運用 / joint-cloud operations.")
def cloud() -> None:
    pass


@cloud.command("join", help="設定ファイルから団体を追加します / admit a city from a config file.")
@click.argument("config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", default="cli", help="記録する実施者名")
@pass_ctx
def join(ctx: Context, config_file: Path, actor: str) -> None:
    try:
        document = config.loads(config_file.read_text(encoding="utf-8"), config_file.name)
        with ctx.db.transaction() as db:
            city = join_city(db, document, actor_name=actor,
                             known_services=ctx.app.extensions["madoguchi.services"].keys())
            code, name = city.code, city.name
    except (ConfigInvalid, UnicodeDecodeError) as exc:
        raise _fail(exc) from None
    click.echo(f"参加しました / joined: {code} {name}")


@cloud.command("config-export", help="団体の設定をファイルに書き出します / write a city's config.")
@click.argument("code")
@click.option("--format", "fmt", type=click.Choice(["toml", "json"]), default="toml")
@pass_ctx
def config_export(ctx: Context, code: str, fmt: str) -> None:
    with ctx.db.transaction() as db:
        try:
            city = leaving.find_city(db, code)
        except leaving.LeavingError as exc:
            raise _fail(exc) from None
        click.echo(config.dumps(config.document_of(city), fmt), nl=False)


@cloud.command("config-import", help="設定ファイルを既存の団体に反映します / apply a config file.")
@click.argument("config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", default="cli")
@click.option("--note", default="")
@pass_ctx
def config_import(ctx: Context, config_file: Path, actor: str, note: str) -> None:
    try:
        document = config.loads(config_file.read_text(encoding="utf-8"), config_file.name)
        with ctx.db.transaction() as db:
            city = leaving.find_city(db, document["municipality"]["code"])
        with ctx.db.transaction(city.id) as db:
            city = leaving.find_city(db, city.code)
            entry = config.apply_document(
                db, city, document, actor_name=actor, actor_role="cloud_operator",
                source="cli", note=note,
                known_services=ctx.app.extensions["madoguchi.services"].keys())
    except (ConfigInvalid, leaving.LeavingError, UnicodeDecodeError) as exc:
        raise _fail(exc) from None
    click.echo("反映しました / applied" if entry else "変更なし / no change")


@cloud.command("export", help="団体のデータをすべて書き出します / export everything of a city.")
@click.argument("code")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@pass_ctx
def export(ctx: Context, code: str, directory: Path) -> None:
    try:
        with ctx.db.transaction() as db:
            manifest = leaving.export_city(db, code, directory, extras=_extras(ctx))
    except leaving.LeavingError as exc:
        raise _fail(exc) from None
    total = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"書き出しました / exported: {len(manifest['tables'])} tables, {total} rows → "
               f"{directory} (manifest sha256 {leaving.manifest_digest(directory)})")


def _extras(ctx: Context):
    """The city's logo and seal image, and files services add in their own open formats
    (e.g. medication → JAHIS text) by defining `export_city(db, municipality_id, directory)
    -> list[Path]`."""
    folder = assets_dir(ctx.app.config, ctx.app.instance_path)
    return [leaving.asset_files(folder)] + [
        plugin.export_city for plugin in ctx.app.extensions["madoguchi.services"].values()
        if callable(getattr(plugin, "export_city", None))]


@cloud.command("import", help="書き出したデータを取り込みます / import an export (fresh deployment).")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_ctx
def import_(ctx: Context, directory: Path) -> None:
    try:
        with ctx.db.transaction() as db:
            inserted = leaving.import_city(db, directory)
    except leaving.LeavingError as exc:
        raise _fail(exc) from None
    click.echo(f"取り込みました / imported: {sum(inserted.values())} rows")


@cloud.command("delete", help="脱退した団体のデータを削除し、署名付き受領証を出力します / "
                              "delete a departed city and write a signed receipt.")
@click.argument("code")
@click.option("--export", "export_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="直前に書き出したフォルダ（件数が一致しないと削除しません）")
@click.option("--receipt", "receipt_file", required=True,
              type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="確認を省略します")
@pass_ctx
def delete(ctx: Context, code: str, export_dir: Path, receipt_file: Path, yes: bool) -> None:
    if not yes:
        click.confirm(f"団体 {code} のデータをすべて削除します。よろしいですか？", abort=True)
    key = _key(ctx)
    try:
        with ctx.db.transaction() as db:
            signed = services.depart(db, code, export_dir, key,
                                     deployment=ctx.app.config.get("DEPLOYMENT_NAME", ""))
    except leaving.LeavingError as exc:
        raise _fail(exc) from None
    receipt_file.write_text(json.dumps(signed, ensure_ascii=False, indent=2), encoding="utf-8")
    click.echo(f"削除しました / deleted: {signed['receipt']['deleted']['total']} rows; "
               f"receipt → {receipt_file}")


@cloud.command("verify-receipt", help="受領証の署名を検証します / verify a receipt.")
@click.argument("receipt_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="信頼する公開鍵（PEM）。省略時はこの環境の鍵")
@pass_ctx
def verify_receipt(ctx: Context, receipt_file: Path, public_key: Path | None) -> None:
    signed = json.loads(receipt_file.read_text(encoding="utf-8"))
    trusted = public_key.read_text() if public_key else receipt.public_key_pem(_key(ctx))
    try:
        document = receipt.verify(signed, trusted)
    except receipt.ReceiptInvalid as exc:
        raise _fail(exc) from None
    city = document["municipality"]
    click.echo(f"署名は有効です / valid: {city['code']} {city['name']}, "
               f"{document['deleted']['total']} rows deleted at {document['deleted_at']}")


@cloud.command("public-key", help="受領証の検証用公開鍵を表示します / print the receipt public key.")
@pass_ctx
def public_key(ctx: Context) -> None:
    click.echo(receipt.public_key_pem(_key(ctx)), nl=False)


@cloud.command("verify-export", help="書き出しのハッシュを確認します / check an export's files.")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify_export(directory: Path) -> None:
    try:
        manifest = leaving.read_manifest(directory)
    except leaving.LeavingError as exc:
        raise _fail(exc) from None
    click.echo(f"一致しました / intact: {len(manifest['tables'])} tables")


@cloud.command("example", help="南国市・香南市・香美市の作業例を登録します / load the worked example.")
@click.option("--replace", is_flag=True, help="既存の費目を置き換えます")
@pass_ctx
def load_example(ctx: Context, replace: bool) -> None:
    try:
        with ctx.db.transaction() as db:
            example.load(db, replace=replace)
    except ValueError as exc:
        raise _fail(exc) from None
    click.echo("作業例を登録しました / example loaded")


@cloud.command("report", help="按分報告を出力します / write the apportionment report.")
@click.option("--from", "first_year", type=int)
@click.option("--to", "last_year", type=int)
@click.option("--format", "fmt", type=click.Choice(["csv", "pdf", "svg"]), default="csv")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def report_(ctx: Context, first_year, last_year, fmt: str, output: Path | None) -> None:
    try:
        with ctx.db.transaction() as db:
            built = report.build(db, first_year, last_year)
        data = {"csv": lambda: report.to_csv(built).encode("utf-8"),
                "svg": lambda: report.to_svg(built).encode("utf-8"),
                "pdf": lambda: report.to_pdf(built)}[fmt]()
    except (ApportionmentError, FontMissing) as exc:
        raise _fail(exc) from None
    if output:
        output.write_bytes(data)
        click.echo(f"→ {output} (inputs sha256 {built.digest})")
    else:
        click.echo(data.decode("utf-8") if fmt != "pdf" else "PDF は --output で保存してください")


@cloud.command("meter-storage", help="今月の保存量（団体・サービスごとの行数）を記録します / "
                                     "record this month's storage per city and service (cron).")
@pass_ctx
def meter_storage(ctx: Context) -> None:
    from portal.metering.services import snapshot_storage
    with ctx.db.transaction() as db:
        totals = snapshot_storage(db, list(ctx.app.extensions["madoguchi.services"]))
    for mid, by_service in sorted(totals.items()):
        click.echo(f"{mid}: " + ", ".join(f"{s} {n:,}" for s, n in sorted(by_service.items())))
