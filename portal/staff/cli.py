from __future__ import annotations

import click
import pyotp

from portal.cli import Context, pass_ctx, require_municipality
from portal.db import scoped
from portal.staff.models import Role, StaffAccount
from portal.staff.services import create_staff, provisioning_uri



@click.group(help="職員アカウント / staff accounts.")
def staff() -> None:
    pass


@staff.command("add", help="職員を追加します / add a staff account.")
@click.option("--municipality", "code", required=True, help="団体コード")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.value for r in Role]))
@click.option("--name", "display_name", required=True)
@click.password_option(help="12文字以上")
@click.argument("username")
@pass_ctx
def add(ctx: Context, code, roles, display_name, password, username) -> None:
    city = require_municipality(ctx, code)
    try:
        with ctx.db.transaction(city.id) as s:
            account = create_staff(s, city.id, username, display_name, password, roles)
            uri = provisioning_uri(account, f"Madoguchi {city.name}")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"追加しました: {username}（{city.name}）")
    click.echo(f"認証アプリに登録してください / TOTP: {uri}")


@staff.command("unlock", help="ロックを解除します / clear a lockout.")
@click.option("--municipality", "code", required=True)
@click.argument("username")
@pass_ctx
def unlock(ctx: Context, code, username) -> None:
    city = require_municipality(ctx, code)
    with ctx.db.transaction(city.id) as s:
        account = s.scalar(scoped(StaffAccount, StaffAccount.username == username))
        if account is None:
            raise click.ClickException(f"{username} は見つかりません")
        account.failed_logins, account.locked_until = 0, None
    click.echo(f"解除しました: {username}")


@staff.command("code", help="開発モードのみ: 現在の確認コード / development only: current TOTP code.")
@click.option("--municipality", "code", required=True)
@click.argument("username")
@pass_ctx
def current_code(ctx: Context, code, username) -> None:
    if ctx.app.config["ENV"] != "development":
        raise click.ClickException("開発モード専用です / development mode only")
    city = require_municipality(ctx, code)
    with ctx.db.transaction(city.id) as s:
        account = s.scalar(scoped(StaffAccount, StaffAccount.username == username))
        if account is None:
            raise click.ClickException(f"{username} は見つかりません")
        click.echo(pyotp.TOTP(account.totp_secret).now())
