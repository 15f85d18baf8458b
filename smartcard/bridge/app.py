"""``madoguchi-bridge``: the card bridge as a resident installs it (pipx, the Debian package).

Which portals it serves comes with the install: the package's settings file
(:data:`SYSTEM_CONFIG`: the deployment's origin, and port, kiosk … for kiosks),
plus the origins the resident added with ``madoguchi-bridge add-origin``, each
only after a confirmation that shows it in full.  ``--origin`` (development)
replaces both.

``madoguchi-bridge open URL`` is the ``x-scheme-handler/madoguchi-bridge``
handler a portal page starts the bridge through: it starts the bridge unless one
already answers, and ignores everything in the URL but its scheme, so a web page
cannot choose what the bridge serves.
"""
from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import click

from .cli import merged_config, serve
from .config import DEFAULT_PORT, BridgeConfig, ConfigError, load_config_file, normalize_origin, try_normalize_origin
from .version import VERSION

SYSTEM_CONFIG = Path("/etc/madoguchi-bridge/bridge.toml")
SCHEME = "madoguchi-bridge"


def user_origins_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "madoguchi-bridge" / "origins.toml"


def read_user_origins() -> list[str]:
    path = user_origins_path()
    if not path.exists():
        return []
    data = load_config_file(path)
    if set(data) != {"origins"}:
        raise ConfigError(f"{path} には origins だけを書けます / only origins may be set in {path}")
    return [normalize_origin(origin) for origin in data["origins"]]


def write_user_origins(origins: list[str]) -> None:
    path = user_origins_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# madoguchi-bridge add-origin で確認のうえ許可したサイト / sites allowed with add-origin\n"
                    f"origins = [{', '.join(json.dumps(o) for o in origins)}]\n", encoding="utf-8")


def resolved_config(config_path: Path | None, origins: tuple[str, ...], port: int | None,
                    kiosk: bool | None) -> BridgeConfig:
    """The package's settings file (or ``--config``) plus the resident's origins; options on top."""
    path = config_path or SYSTEM_CONFIG
    settings = load_config_file(path) if path.exists() else {}
    settings["origins"] = list(dict.fromkeys([*settings.get("origins", ()), *read_user_origins()]))
    try:
        return merged_config(settings, origins=tuple(origins) or None, port=port, kiosk=kiosk)
    except ConfigError as exc:
        hint = "" if settings["origins"] or origins else (
            "\n  madoguchi-bridge add-origin https://（お住まいの自治体のポータル） で設定できます"
            " / allow your city's portal with add-origin")
        raise click.UsageError(f"{exc}{hint}") from None


def answering(port: int) -> bool:
    """Does a card bridge already answer on this port?"""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=1) as answer:
            return "bridge" in json.loads(answer.read())
    except (OSError, ValueError):
        return False


@click.group(invoke_without_command=True)
@click.version_option(VERSION, prog_name="madoguchi-bridge", message="%(prog)s %(version)s")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=f"設定ファイル / settings file (default {SYSTEM_CONFIG})")
@click.option("--origin", "origins", multiple=True,
              help="開発用: このオリジンだけを許可 / development: serve only this origin (repeatable)")
@click.option("--port", type=int, default=None, help=f"待ち受けポート / port (default {DEFAULT_PORT})")
@click.option("--kiosk/--no-kiosk", default=None, help="キオスクモード / kiosk mode")
@click.option("--verbose", is_flag=True, help="詳しいログ / verbose log")
@click.pass_context
def main(ctx, config_path, origins, port, kiosk, verbose) -> None:
    """マイナンバーカード連携アプリ / the Madoguchi card bridge (loopback only)."""
    ctx.obj = {"config": lambda: resolved_config(config_path, origins, port, kiosk), "verbose": verbose}
    if ctx.invoked_subcommand is None:
        serve(ctx.obj["config"](), verbose)


@main.command("open")
@click.argument("url", required=False)
@click.pass_obj
def open_from_url(options, url) -> None:
    """madoguchi-bridge: のリンクから起動（起動済みなら何もしない） / start from the URL scheme."""
    if url is not None and not url.lower().startswith(SCHEME + ":"):
        raise click.UsageError(f"{SCHEME}: の URL ではありません / not a {SCHEME}: URL")
    config = options["config"]()
    if answering(config.port):
        click.echo("すでに起動しています / already running")
        return
    serve(config, options["verbose"])


@main.command("add-origin")
@click.argument("origin")
def add_origin(origin: str) -> None:
    """カード連携を使うサイトを確認のうえ追加 / allow a portal, after a confirmation."""
    try:
        normal = normalize_origin(origin)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    current = read_user_origins()
    if normal in current:
        click.echo(f"すでに許可されています / already allowed: {normal}")
        return
    click.echo("このパソコンのマイナンバーカードを、次のサイトでのログインに使えるようにします。\n"
               "The card on this computer will be usable for signing in to this site:\n")
    click.echo(f"    {normal}\n")
    click.echo("お住まいの自治体が案内しているアドレスと一字一句同じか確かめてください。\n"
               "Check that it is exactly the address your city gave you.")
    if not click.confirm("許可しますか / allow this site?", default=False):
        click.echo("変更しませんでした / nothing changed")
        raise SystemExit(1)
    write_user_origins([*current, normal])
    click.echo(f"許可しました / allowed: {normal}")


@main.command("remove-origin")
@click.argument("origin")
def remove_origin(origin: str) -> None:
    """追加したサイトを外す / stop serving a portal you added."""
    current = read_user_origins()
    normal = try_normalize_origin(origin) or origin
    if normal not in current:
        raise click.UsageError(f"追加したサイトにありません / not among the added sites: {origin}")
    write_user_origins([o for o in current if o != normal])
    click.echo(f"外しました / removed: {normal}")


@main.command("origins")
@click.pass_obj
def list_origins(options) -> None:
    """許可しているサイトの一覧 / the portals this bridge serves."""
    for origin in options["config"]().origins:
        click.echo(origin)
