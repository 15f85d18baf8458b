"""Files a city's settings refer to — its logo (`branding.logo`) and its seal image
(`seal_image`, 公印) — kept by the operator in one folder, `CITY_ASSETS_DIR`
(`MADOGUCHI_CITY_ASSETS_DIR`; default `<instance>/city-assets`).

Settings hold a *reference*: a relative path inside that folder such as
`seals/392049.png`, never a file, an absolute path or a URL (the CSP serves images from
the portal only). A city's configuration file must not be able to point the portal at any
other file of the server, so a reference is refused unless it is a plain relative path of
safe characters with an allowed image suffix, and it still resolves inside the folder once
symbolic links are followed.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Mapping

log = logging.getLogger("madoguchi.tenancy")

# Path segments of letters, digits, '.', '_' and '-', not starting with a dot (no '..',
# no hidden files), separated by single '/'.
_REFERENCE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$")
MAX_REFERENCE = 200
MAX_BYTES = 2 * 1024 * 1024

# What each reference may name: the browser shows logos; the PDF renderer (reportlab)
# draws seals and has no SVG.
LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
              ".gif": "image/gif", ".webp": "image/webp", ".svg": "image/svg+xml"}
SEAL_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
KINDS = {"logo": LOGO_TYPES, "seal_image": SEAL_TYPES}


class AssetRefused(ValueError):
    """A reference that must not be followed, or names no usable file; says why in Japanese."""


def reference_problem(reference: Any, kind: str) -> str | None:
    """Why `reference` is not an acceptable `kind` reference ("logo" or "seal_image"), in
    Japanese, or None when it is. Only the text is checked, not the file."""
    if not isinstance(reference, str) or len(reference) > MAX_REFERENCE:
        return f"{kind} は{MAX_REFERENCE}文字以内の文字列です"
    if not _REFERENCE.match(reference):
        return (f"{kind} は画像フォルダー内の相対パスで書いてください（例: seals/392049.png。"
                "「..」・絶対パス・URL は使えません）")
    suffixes = KINDS[kind]
    if Path(reference).suffix.lower() not in suffixes:
        return f"{kind} の形式は {', '.join(sorted(suffixes))} のいずれかです"
    return None


def assets_dir(config: Mapping[str, Any], instance_path: str) -> Path:
    """The operator's folder of city assets."""
    configured = config.get("CITY_ASSETS_DIR")
    return Path(configured) if configured else Path(instance_path) / "city-assets"


def resolve(directory: Path, reference: str, kind: str) -> Path:
    """The file `reference` names inside `directory`; raises AssetRefused."""
    problem = reference_problem(reference, kind)
    if problem:
        raise AssetRefused(problem)
    root = Path(directory).resolve()
    path = (root / reference).resolve()
    if not path.is_relative_to(root):  # a symbolic link leading out of the folder
        raise AssetRefused(f"{kind} {reference} は画像フォルダーの外を指しています")
    if not path.is_file():
        raise AssetRefused(f"{kind} {reference} のファイルがありません")
    if path.stat().st_size > MAX_BYTES:
        raise AssetRefused(f"{kind} {reference} は {MAX_BYTES // (1024 * 1024)} MB を超えています")
    return path


def city_asset(municipality, kind: str) -> Path | None:
    """The city's `kind` file ("logo" or "seal_image") for the current app, or None when the
    city sets none or its reference cannot be used (logged: the page or certificate then
    shows the default)."""
    from flask import current_app
    settings = municipality.settings or {}
    reference = (settings.get("branding") or {}).get("logo") if kind == "logo" \
        else settings.get("seal_image")
    if not reference:
        return None
    try:
        return resolve(assets_dir(current_app.config, current_app.instance_path), reference, kind)
    except AssetRefused as exc:
        log.warning("city %s: %s; using the default", municipality.code, exc)
        return None
