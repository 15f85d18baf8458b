"""``madoguchi bridge``: run the card bridge on this PC or kiosk."""
from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import click

from .config import DEFAULT_PORT, BridgeConfig, ConfigError, load_config_file


@click.command()
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML 設定ファイル / settings file (origins, port, kiosk, reader, idle_s)")
@click.option("--origin", "origins", multiple=True,
              help="許可するポータルのオリジン（複数可） / portal origin to serve (repeatable)")
@click.option("--port", type=int, default=None, help=f"待ち受けポート / port (default {DEFAULT_PORT})")
@click.option("--kiosk/--no-kiosk", default=None, help="キオスクモード / kiosk mode (PIN pad, card events)")
@click.option("--reader", default=None, help="使うカードリーダー名 / use only this reader")
@click.option("--idle", "idle_s", type=int, default=None, help="キオスクの無操作タイムアウト秒 / kiosk idle timeout")
@click.option("--verbose", is_flag=True, help="詳しいログ / verbose log")
def bridge(config_path, origins, port, kiosk, reader, idle_s, verbose) -> None:
    """マイナンバーカード連携アプリを起動します / run the card bridge (loopback only)."""
    try:
        config = build_config(config_path, origins, port, kiosk, reader, idle_s)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    serve(config, verbose)


def serve(config: BridgeConfig, verbose: bool = False) -> None:
    """Run the bridge until SIGTERM or Ctrl-C (``madoguchi bridge`` and ``madoguchi-bridge``)."""
    from .server import Bridge

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    try:
        running = Bridge.from_config(config).start()
    except OSError as exc:
        raise click.ClickException(f"ポートを開けません / cannot listen: {exc}") from None
    click.echo(f"カード連携アプリ起動 / card bridge on {running.url} for {', '.join(config.origins)}"
               + (" [kiosk]" if config.kiosk else ""))
    wait_for_signal()
    running.stop()
    click.echo("停止しました / stopped")


def build_config(config_path, origins, port, kiosk, reader, idle_s) -> BridgeConfig:
    """Options override the file; the file overrides the defaults."""
    settings = load_config_file(config_path) if config_path else {}
    return merged_config(settings, origins=tuple(origins) or None, port=port, kiosk=kiosk,
                         reader=reader, idle_s=idle_s)


def merged_config(settings: dict, **overrides) -> BridgeConfig:
    """``settings`` (from files) with the options that were given (not None) on top."""
    settings = {**settings, **{k: v for k, v in overrides.items() if v is not None}}
    settings["origins"] = tuple(settings.get("origins", ()))
    return BridgeConfig(**settings)


def wait_for_signal() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
