"""The `madoguchi` command: set up, operate and demo the portal."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask

from portal.config import ConfigError, is_development


class Context:
    """Builds the app lazily so `madoguchi --help` needs no configuration."""

    def __init__(self) -> None:
        self._app: Flask | None = None

    @property
    def app(self) -> Flask:
        if self._app is None:
            from portal import create_app
            try:
                self._app = create_app()
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._app

    @property
    def db(self):
        return self.app.extensions["madoguchi.db"]

    def unit(self, municipality_id: int | None = None, actor=None):
        """A unit of work of this command: the access log names `actor` (default: the
        system), never a signed-in viewer (there is none)."""
        from portal.unit_of_work import SYSTEM, unit_of_work
        return unit_of_work(self.db, municipality_id, actor or SYSTEM)


pass_ctx = click.make_pass_decorator(Context, ensure=True)


def require_municipality(ctx: Context, code: str):
    """The member city with this code, or a one-line error naming the code."""
    from portal.tenancy.services import by_code
    with ctx.db.transaction() as s:
        city = by_code(s, code)
    if city is None:
        raise click.ClickException(f"団体コード {code} は登録されていません / unknown municipality code")
    return city


@click.group(help="窓口 Madoguchi — 住民サービスポータル / resident-services portal.")
def cli() -> None:
    pass


GUNICORN_CONFIG = Path(__file__).with_name("gunicorn.conf.py")


@cli.command("serve", help="ポータルを起動します / serve the portal (gunicorn; the development "
                           "server in development mode).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(min=1),
              help="gunicorn のワーカー数 / gunicorn workers (default: portal/gunicorn.conf.py)")
@pass_ctx
def serve(ctx: Context, host: str, port: int, workers: int | None) -> None:
    app = ctx.app   # a configuration error stops here in one line, before any worker starts
    click.echo(f"窓口ポータル: http://{host}:{port}/")
    if is_development(app.config):
        app.run(host=host, port=port, debug=False, use_reloader=False)
        return
    argv = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG),
            "--bind", f"{host}:{port}"]
    if workers:
        argv += ["--workers", str(workers)]
    sys.stdout.flush()
    # exec: gunicorn's master takes this process's place, so a supervisor's signals
    # (TERM: graceful stop, HUP: reload) reach it directly
    os.execv(sys.executable, argv)


@cli.group(help="データベース / database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="スキーマを最新にします / migrate core and services to head.")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    from portal.migrate import upgrade
    upgrade(ctx.app.config["DATABASE_URL"], ctx.app.extensions["madoguchi.services"])
    click.echo("データベースを更新しました / database is at head")


def _register_groups() -> None:
    from portal.demo import demo
    from portal.jointcloud.cli import cloud
    from portal.oidc.cli import oidc
    from portal.registry.cli import registry
    from portal.staff.cli import staff
    from portal.tenancy.cli import municipality
    for group in (municipality, staff, registry, oidc, cloud, demo):
        cli.add_command(group)
    from portal.cards.cli import card as server_card, refresh_crls
    try:
        from madoguchi_smartcard.cli import card, pki
    except ImportError:  # a server install without the card side
        cli.add_command(server_card)
        return
    from madoguchi_smartcard.bridge.cli import bridge
    card.add_command(refresh_crls)
    cli.add_command(card)
    cli.add_command(pki)
    cli.add_command(bridge)


def _register_plugin_groups() -> None:
    from portal.plugins import load_plugins
    for plugin in load_plugins().values():
        group = plugin.cli()
        if group is not None:
            cli.add_command(group, plugin.name)


def main() -> None:
    _register_groups()
    _register_plugin_groups()
    try:
        cli(prog_name="madoguchi")
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
