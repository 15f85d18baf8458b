"""What a bridge serves: the portal origins it trusts, its port, kiosk settings.

Origins are compared in one normal form (``scheme://host[:port]``, lower case,
no default port, no path), the form browsers put in ``event.origin`` and the
portal uses in the signed data.  Plain ``http`` is accepted only for loopback
portals (development and tests): anything else could be tampered with on the wire.
"""
from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PORT = 35980
LOOPBACK_NAMES = frozenset({"localhost"})
DEFAULT_PORTS = {"http": 80, "https": 443}


class ConfigError(ValueError):
    """The bridge cannot start with this configuration (message in Japanese and English)."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_origin(text: str) -> str:
    """``https://Portal.Example:443/`` → ``https://portal.example``.  Raises :class:`ConfigError`."""
    parts = urlsplit(text.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ConfigError(f"オリジンの形式が正しくありません / not an http(s) origin: {text!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"オリジンにパスなどは含められません / an origin has no path: {text!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(f"http のオリジンはこのパソコン内のみ許可されます / http only for loopback: {text!r}")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or port == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def try_normalize_origin(text: str) -> str | None:
    """The normal form of ``text``, or None if it is no acceptable origin."""
    try:
        return normalize_origin(text)
    except (ConfigError, ValueError):  # urlsplit raises ValueError for a bad port
        return None


@dataclass(frozen=True)
class BridgeConfig:
    """One bridge's settings (per home PC or per kiosk).

    ``reader``: use only this PC/SC reader (kiosks); None = the reader holding a card.
    ``card_wait_s``: how long a request waits for a card to be put on the reader.
    ``idle_s``: kiosk only; the bridge window gives up after this long without input.
    """

    origins: tuple[str, ...]
    port: int = DEFAULT_PORT
    kiosk: bool = False
    reader: str | None = None
    card_wait_s: float = 3.0
    idle_s: int = 120
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        if not self.origins:
            raise ConfigError("許可するポータルのオリジンを1つ以上設定してください / configure at least one origin")
        object.__setattr__(self, "origins", tuple(dict.fromkeys(normalize_origin(o) for o in self.origins)))
        if not is_loopback(self.host):
            raise ConfigError(f"ブリッジはこのパソコン内 (127.0.0.1) でのみ待ち受けます / "
                              f"the bridge listens on loopback only, not {self.host!r}")
        if not 0 <= int(self.port) <= 65535:
            raise ConfigError(f"ポート番号が正しくありません / bad port {self.port!r}")

    def allows(self, origin: str | None) -> bool:
        """Is ``origin`` (as a browser sends it) one of the configured portals?"""
        return origin is not None and try_normalize_origin(origin) in self.origins


def load_config_file(path: str | Path) -> dict:
    """Read a TOML bridge configuration, e.g.::

        origins = ["https://portal.example.lg.jp"]
        port = 35980
        kiosk = true
        reader = "SONY FeliCa Port/PaSoRi 4.0 00 00"
        idle_s = 120
    """
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    known = {"origins", "port", "kiosk", "reader", "card_wait_s", "idle_s"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"設定ファイルに不明な項目があります / unknown settings: {sorted(unknown)}")
    return data
