"""`madoguchi oidc`: register partner services (連携先) and rotate the signing keys."""
from __future__ import annotations

import click
from sqlalchemy import select

from portal.cli import Context, pass_ctx
from portal.oidc import keys
from portal.oidc.server import key_schedule
from portal.oidc.services import (SUPPORTED_SCOPES, ClientRegistrationError, clients_of,
                                  register_client, utcnow)
from portal.tenancy.models import Municipality
from portal.tenancy.services import by_code


@click.group(help="OpenID Connect 連携 / OpenID Connect provider.")
def oidc() -> None:
    pass


@oidc.group(help="連携先サービス / relying parties.")
def client() -> None:
    pass


@client.command("add", help="連携先を登録します（秘密鍵は一度だけ表示）/ register a client.")
@click.option("--municipality", "code", required=True, help="団体コード (6桁)")
@click.option("--name", required=True, help="連携先の名前（同意画面に表示）")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True,
              help="リダイレクトURI（複数可、完全一致）")
@click.option("--sector", default=None, help="セクター識別子（同じ値の連携先は同じ sub）")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SUPPORTED_SCOPES),
              help="許可するスコープ（既定: offline_access 以外のすべて）")
@click.option("--require-card", is_flag=True,
              help="マイナンバーカード（暗証番号）でのログインだけを受け付けます")
@click.option("--post-logout-redirect-uri", "logout_uris", multiple=True,
              help="ログアウト後の戻り先URI（複数可、完全一致）/ RP-initiated logout")
@pass_ctx
def client_add(ctx: Context, code, name, redirect_uris, sector, scopes, require_card,
               logout_uris) -> None:
    with ctx.db.transaction() as s:
        city = by_code(s, code)
    if city is None:
        raise click.ClickException(f"団体コード {code} は登録されていません")
    try:
        with ctx.db.transaction(city.id) as s:
            new = register_client(s, city.id, name, list(redirect_uris), sector,
                                  list(scopes) or None, require_card, list(logout_uris))
    except ClientRegistrationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"登録しました: {city.name} / {new.client.name}")
    click.echo(f"client_id:     {new.client.client_id}")
    click.echo(f"client_secret: {new.secret}")
    click.echo(f"sector:        {new.client.sector_identifier}")
    click.echo("client_secret はこの一度しか表示されません。安全な方法で連携先に渡してください。")


@client.command("list", help="連携先の一覧 / list clients.")
@pass_ctx
def client_list(ctx: Context) -> None:
    with ctx.db.transaction() as s:
        cities = {m.id: m.code for m in s.scalars(select(Municipality))}
        for c in clients_of(s):
            state = "有効" if c.active else "停止"
            click.echo("\t".join([cities.get(c.municipality_id, "?"), c.client_id, c.name,
                                  c.sector_identifier, " ".join(c.scopes),
                                  " ".join(c.redirect_uris),
                                  " ".join(c.post_logout_redirect_uris or []), state]))


@oidc.group(help="署名鍵 / signing keys.")
def keys_() -> None:
    pass


oidc.add_command(keys_, "keys")


@keys_.command("rotate", help="新しい署名鍵を作ります（公開後、一定時間たってから署名に使います）"
                              " / make a new signing key (published first, signs later).")
@pass_ctx
def keys_rotate(ctx: Context) -> None:
    with ctx.db.transaction() as s:
        key = keys.rotate(keys.store_for(ctx.app.config, s))
    with ctx.app.app_context():
        starts = key_schedule().starts_signing(key)
    click.echo(f"新しい署名鍵: kid={key.kid}")
    click.echo(f"公開鍵セット（JWKS）に今から公開し、{starts.isoformat()} (UTC) から署名に使います。")
    click.echo("以前の鍵は、それで署名した ID トークンの有効期限が切れるまで公開を続けます。")


STATE_LABELS = {"pending": "公開中（署名前）", "signing": "署名中", "retired": "公開中（署名終了）",
                "withdrawn": "非公開"}


@keys_.command("list", help="署名鍵の一覧（新しい順）/ list signing keys.")
@pass_ctx
def keys_list(ctx: Context) -> None:
    with ctx.app.app_context():
        schedule = key_schedule()
    with ctx.db.transaction() as s:
        found = keys.store_for(ctx.app.config, s).newest(keys.KEPT_KEYS)
        for entry in keys.key_states(found, utcnow(), schedule):
            click.echo(f"{entry.key.kid}\t{entry.key.created_at.isoformat()}\t"
                       f"{STATE_LABELS[entry.state]}")
