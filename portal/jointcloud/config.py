"""A city's configuration (団体設定): validation, a readable file form (TOML or JSON),
differences, and the change history.

Everything a member city may differ in lives in `Municipality.settings`; the file form adds
the city's identity so a new member can join from one file::

    format = "madoguchi-city-config/1"
    [municipality]
    code = "392049"
    name = "南国市"
    ...
    [settings]
    services = ["maternal_health", "medication"]
    seal_image = "seals/392049.png"     # inside CITY_ASSETS_DIR (portal/tenancy/assets.py)
    [settings.hours]
    counter = "08:30-17:15"
    [settings.branding]
    display_name = "南国市 健康ポータル"
    primary_colour = "#1b5e20"
    [[settings.issuance.certificates]]
    type = "juminhyo"
    name = "住民票の写し"
    fee = 300

Keys this module does not know are kept as they are: a service may keep its own settings.
"""
from __future__ import annotations

import copy
import json
import re
import tomllib
from datetime import datetime, timezone
from typing import Any, Iterable

import tomli_w
from sqlalchemy.orm import Session

from portal.jointcloud.models import ConfigChange
from portal.tenancy.assets import reference_problem
from portal.tenancy.models import Municipality

FORMAT = "madoguchi-city-config/1"
IDENTITY_FIELDS = ("code", "name", "name_en", "prefecture", "population")
EDITABLE_IDENTITY = ("name", "name_en", "prefecture", "population")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")
_CERT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class ConfigInvalid(ValueError):
    """The configuration breaks one or more rules; `problems` lists them in Japanese."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def validate_settings(settings: Any, known_services: Iterable[str] | None = None) -> dict:
    """Check a settings mapping and return a normalised deep copy; raise ConfigInvalid."""
    if not isinstance(settings, dict):
        raise ConfigInvalid(["設定は表（キーと値）の形式で書いてください"])
    problems: list[str] = []
    result = copy.deepcopy(settings)
    result["services"] = _services(result.get("services", []), known_services, problems)
    _check_hours(result.get("hours", {}), problems)
    _check_branding(result.get("branding", {}), problems)
    _check_catalogue(result.get("issuance", {}), problems)
    seal = result.get("seal_image", "")
    if not isinstance(seal, str) or len(seal) > 200:
        problems.append("印影画像の参照は200文字以内の文字列です")
    elif seal and (problem := reference_problem(seal, "seal_image")):
        problems.append(problem)
    if problems:
        raise ConfigInvalid(problems)
    return result


def _services(value, known, problems) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append("services は文字列の一覧です")
        return []
    unknown = sorted(set(value) - set(known)) if known is not None else []
    if unknown:
        problems.append(f"このシステムにないサービスです: {', '.join(unknown)}")
    return sorted(set(value))


def _check_hours(hours, problems) -> None:
    if not isinstance(hours, dict):
        problems.append("hours は表の形式です")
        return
    for key, value in hours.items():
        if not isinstance(value, str) or not _HOURS.match(value):
            problems.append(f"受付時間 {key} は「08:30-17:15」の形で書いてください")


def _check_branding(branding, problems) -> None:
    if not isinstance(branding, dict):
        problems.append("branding は表の形式です")
        return
    for key in ("primary_colour", "accent_colour"):
        if key in branding and not (isinstance(branding[key], str) and _COLOUR.match(branding[key])):
            problems.append(f"色 {key} は「#1b5e20」の形で書いてください")
    for key in ("display_name", "logo"):
        if key in branding and not (isinstance(branding[key], str) and len(branding[key]) <= 200):
            problems.append(f"{key} は200文字以内の文字列です")
        elif key == "logo" and branding.get(key) and (problem := reference_problem(branding[key], key)):
            problems.append(problem)


def _check_catalogue(issuance, problems) -> None:
    if not isinstance(issuance, dict):
        problems.append("issuance は表の形式です")
        return
    certificates = issuance.get("certificates", [])
    if not isinstance(certificates, list):
        problems.append("issuance.certificates は一覧です")
        return
    seen = set()
    for n, cert in enumerate(certificates, 1):
        where = f"証明書 {n} 件目"
        if not isinstance(cert, dict):
            problems.append(f"{where}: 表の形式で書いてください")
            continue
        kind, fee = cert.get("type"), cert.get("fee")
        if not isinstance(kind, str) or not _CERT_TYPE.match(kind):
            problems.append(f"{where}: 種類コード type は英小文字・数字・_ です")
        elif kind in seen:
            problems.append(f"{where}: 種類コード {kind} が重複しています")
        seen.add(kind)
        if not isinstance(cert.get("name"), str) or not cert.get("name"):
            problems.append(f"{where}: 名称 name がありません")
        if not isinstance(fee, int) or isinstance(fee, bool) or not 0 <= fee <= 100_000:
            problems.append(f"{where}: 手数料 fee は0〜100,000円の整数です")


# --- The file form ---------------------------------------------------------------------


def document_of(city: Municipality) -> dict:
    """The city's configuration as a document (identity + settings)."""
    return {"format": FORMAT,
            "municipality": {f: getattr(city, f) for f in IDENTITY_FIELDS},
            "settings": _without_nulls(copy.deepcopy(city.settings or {}))}


def dumps(document: dict, fmt: str = "toml") -> str:
    """Write a document as TOML (default) or JSON, keys sorted so diffs stay small."""
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if fmt == "toml":
        return tomli_w.dumps(document)
    raise ValueError(f"unknown format {fmt}")


def loads(text: str, filename: str = "") -> dict:
    """Read a TOML or JSON configuration file and check its structure (not the settings)."""
    is_json = filename.lower().endswith(".json") or text.lstrip().startswith("{")
    try:
        document = json.loads(text) if is_json else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigInvalid([f"ファイルを読めません（{'JSON' if is_json else 'TOML'}）: {exc}"]) from None
    problems = []
    if document.get("format") != FORMAT:
        problems.append(f"format は \"{FORMAT}\" にしてください")
    identity = document.get("municipality")
    if not isinstance(identity, dict) or not isinstance(identity.get("code"), str):
        problems.append("[municipality] に団体コード code がありません")
    elif not isinstance(identity.get("population", 0), int) or identity.get("population", 0) < 0:
        problems.append("人口 population は0以上の整数です")
    if not isinstance(document.get("settings"), dict):
        problems.append("[settings] がありません")
    if problems:
        raise ConfigInvalid(problems)
    return document


def _without_nulls(value):
    """TOML has no null: drop None values (they mean "not set")."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


# --- Differences and history -----------------------------------------------------------


def diff(before: Any, after: Any, path: str = "") -> list[dict]:
    """Changed leaves as [{"path": "branding.primary_colour", "before": …, "after": …}];
    lists compare as whole values."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            changes += diff(before.get(key), after.get(key), sub)
        return changes
    if before == after:
        return []
    return [{"path": path, "before": before, "after": after}]


def snapshot(city: Municipality) -> dict:
    """What the history stores before and after a change: identity and settings."""
    return {"municipality": {f: getattr(city, f) for f in IDENTITY_FIELDS},
            "settings": copy.deepcopy(city.settings or {})}


def apply_document(db: Session, city: Municipality, document: dict, *, actor_name: str,
                   actor_role: str, source: str, known_services=None,
                   note: str = "") -> ConfigChange | None:
    """Apply a configuration document to an existing city and record the change (or
    nothing, when nothing changed). The code in the document must be the city's."""
    identity = document.get("municipality", {})
    if identity.get("code") != city.code:
        raise ConfigInvalid([f"団体コードが違います: ファイル {identity.get('code')} / 対象 {city.code}"])
    settings = validate_settings(document.get("settings", {}), known_services)
    return change(db, city, {k: identity[k] for k in EDITABLE_IDENTITY if k in identity},
                  settings, actor_name=actor_name, actor_role=actor_role, source=source,
                  note=note)


def change(db: Session, city: Municipality, identity: dict, settings: dict, *,
           actor_name: str, actor_role: str, source: str, note: str = "") -> ConfigChange | None:
    """Set identity fields and (already validated) settings; record who changed what."""
    before = snapshot(city)
    for key, value in identity.items():
        setattr(city, key, value)
    city.settings = settings
    after = snapshot(city)
    changes = diff(before, after)
    if not changes:
        return None
    entry = ConfigChange(municipality_id=city.id, changed_at=_utcnow(), actor_name=actor_name,
                         actor_role=actor_role, source=source, before=before, after=after,
                         diff=changes, note=note[:200])
    db.add(entry)
    db.flush()
    return entry


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
