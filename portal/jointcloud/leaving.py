"""Leaving without lock-in (脱退): export everything of one city in open formats, import
it into a fresh deployment, and delete it from the shared one — all or nothing.

Which tables hold a city's rows is discovered from the shared metadata, so a service's
tables are included as soon as the service is installed:

* a table with a `municipality_id` column: its rows of that city;
* a table without one but with a foreign key to such a table: the rows pointing at the
  city's rows (followed transitively);
* the `municipality` row itself.

Export format (documented in docs/joint-cloud.md): `tables/<table>.json` (typed JSON,
the source for import), `csv/<table>.csv` (the same rows for spreadsheets), and
`manifest.json` with row counts and the SHA-256 of every file; extras such as the
medication notebooks as JAHIS text and the city's logo and seal image (`assets/`). Secrets (staff password
hashes, TOTP secrets) are never exported; sign-in sessions are deleted, not exported.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import secrets
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlalchemy import Enum, Integer, Table, delete, func, insert, or_, select, text
from sqlalchemy.orm import Session

from portal.audit.models import AccessLogEntry
from portal.db import Base, across_municipalities
from portal.registry.models import Resident
from portal.tenancy.assets import AssetRefused, resolve
from portal.tenancy.models import Municipality

EXPORT_FORMAT = "madoguchi-city-export/1"
MANIFEST = "manifest.json"
EXPORT_PURPOSE = "団体データの書き出し（共同利用の運用）"

# Never leave the deployment: credentials. On import, fresh unusable values are filled in,
# so imported staff must be given new passwords and authenticators (madoguchi staff …).
SECRET_COLUMNS: dict[str, dict[str, Callable[[], Any]]] = {
    "staff_account": {"password_hash": lambda: "!imported-reset-required",
                      "totp_secret": lambda: base64.b32encode(secrets.token_bytes(20)).decode(),
                      "last_totp_step": lambda: None},
}
# Deleted with the city but not exported: sign-in state, meaningless elsewhere.
EPHEMERAL_TABLES = frozenset({"user_session", "login_challenge"})


class LeavingError(RuntimeError):
    """Export, import or deletion refused; the message says why, in Japanese."""


@dataclass(frozen=True)
class CityTable:
    table: Table
    exported: bool


# --- Discovery -------------------------------------------------------------------------


def city_tables() -> list[CityTable]:
    """Every table holding a city's rows, parents before children (FK-safe insert order)."""
    holding = {"municipality"}
    found = []
    for table in Base.metadata.sorted_tables:
        if table.name == "municipality":
            found.append(CityTable(table, True))
            continue
        parents = {fk.column.table.name for fk in table.foreign_keys}
        if "municipality_id" in table.c or parents & holding:
            holding.add(table.name)
            exported = table.name not in EPHEMERAL_TABLES and table.info.get("export", True)
            found.append(CityTable(table, exported))
    return found


def city_rows(table: Table, municipality_id: int):
    """A WHERE clause selecting the city's rows of `table`."""
    if table.name == "municipality":
        return table.c.id == municipality_id
    if "municipality_id" in table.c:
        return table.c.municipality_id == municipality_id
    tables = {ct.table.name: ct.table for ct in city_tables()}
    clauses = []
    for fk in table.foreign_keys:
        parent = fk.column.table
        if parent.name in tables:
            clauses.append(fk.parent.in_(select(fk.column).where(city_rows(parent, municipality_id))))
    if not clauses:
        raise LeavingError(f"{table.name} は団体のデータではありません")
    return or_(*clauses)


def counts(db: Session, municipality_id: int) -> dict[str, int]:
    """Rows of the city in every city table."""
    return {ct.table.name: db.scalar(across_municipalities(
        select(func.count()).select_from(ct.table).where(city_rows(ct.table, municipality_id))))
        for ct in city_tables()}


def find_city(db: Session, code: str) -> Municipality:
    city = db.scalar(select(Municipality).where(Municipality.code == code))
    if city is None:
        raise LeavingError(f"団体コード {code} の団体は登録されていません")
    return city


# --- Export ----------------------------------------------------------------------------


def export_city(db: Session, code: str, directory: Path,
                extras: Iterable[Callable[[Session, int, Path], list[Path]]] = ()) -> dict:
    """Write everything of the city into `directory` (must be empty or new); return the
    manifest. `extras` may add files (e.g. medication as JAHIS text)."""
    city = find_city(db, code)
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise LeavingError(f"出力先 {directory} が空ではありません")
    (directory / "tables").mkdir(parents=True, exist_ok=True)
    (directory / "csv").mkdir(exist_ok=True)
    log_export(db, city.id)
    tables = {}
    for ct in city_tables():
        if ct.exported:
            tables[ct.table.name] = _export_table(db, ct.table, city.id, directory)
    files = []
    for extra in extras:
        for path in extra(db, city.id, directory):
            files.append({"file": str(path.relative_to(directory)), "sha256": _sha256(path)})
    manifest = {
        "format": EXPORT_FORMAT, "exported_at": _utcnow().isoformat(timespec="seconds"),
        "municipality": {"code": city.code, "name": city.name},
        "tables": tables, "extras": files,
        "omitted_columns": {t: sorted(c) for t, c in SECRET_COLUMNS.items() if t in tables},
        "not_exported": sorted(ct.table.name for ct in city_tables() if not ct.exported),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                      encoding="utf-8")
    return manifest


def log_export(db: Session, municipality_id: int) -> None:
    """An export reads every record of every resident: each gets an access-log entry, written
    before the tables are dumped so the export carries the record of its own making."""
    people = db.scalars(across_municipalities(
        select(Resident.id).where(Resident.municipality_id == municipality_id))).all()
    if people:
        now = _utcnow()
        db.execute(insert(AccessLogEntry), [dict(
            municipality_id=municipality_id, occurred_at=now, actor_type="system", actor_id=None,
            actor_name="共同利用運用", actor_role="cloud_operator", subject_resident_id=person,
            action="export", resource="jointcloud.export", purpose=EXPORT_PURPOSE,
            request_path="") for person in people])


def asset_files(assets_dir: Path) -> Callable[[Session, int, Path], list[Path]]:
    """An export extra: the files the city's settings refer to (its logo and seal image,
    kept in the operator's `assets_dir`), copied to `assets/<reference>`, so the city leaves
    with them. A reference naming no usable file is skipped: there is nothing to take."""
    def extra(db: Session, municipality_id: int, directory: Path) -> list[Path]:
        settings = db.get(Municipality, municipality_id).settings or {}
        wanted = (("logo", (settings.get("branding") or {}).get("logo")),
                  ("seal_image", settings.get("seal_image")))
        copied = []
        for kind, reference in wanted:
            try:
                source = resolve(assets_dir, reference, kind) if reference else None
            except AssetRefused:
                source = None
            if source is not None:
                target = directory / "assets" / reference
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                copied.append(target)
        return copied
    return extra


def _export_table(db: Session, table: Table, municipality_id: int, directory: Path) -> dict:
    omitted = SECRET_COLUMNS.get(table.name, {})
    columns = [c for c in table.columns if c.name not in omitted]
    pk = list(table.primary_key.columns)
    rows = db.execute(across_municipalities(
        select(*columns).where(city_rows(table, municipality_id)).order_by(*pk))).all()
    records = [{c.name: _to_json(value) for c, value in zip(columns, row)} for row in rows]
    json_path = directory / "tables" / f"{table.name}.json"
    json_path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    csv_path = directory / "csv" / f"{table.name}.csv"
    csv_path.write_text(_csv(columns, records), encoding="utf-8")
    return {"rows": len(records), "columns": [_describe(c) for c in columns],
            "json": f"tables/{table.name}.json", "json_sha256": _sha256(json_path),
            "csv": f"csv/{table.name}.csv", "csv_sha256": _sha256(csv_path)}


def _describe(column) -> dict:
    return {"name": column.name, "type": str(column.type.compile(dialect=_generic())),
            "nullable": bool(column.nullable)}


def _generic():
    from sqlalchemy.dialects import sqlite
    return sqlite.dialect()


def _to_json(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value, str):  # StrEnum → its stored value
        return value.value
    return value


def _csv(columns, records) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    for record in records:
        writer.writerow([_csv_cell(record[c.name]) for c in columns])
    return buffer.getvalue()


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


# --- Checking an export ----------------------------------------------------------------


def read_manifest(directory: Path) -> dict:
    """Load the manifest and check every file's SHA-256 against it."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LeavingError(f"manifest.json を読めません: {exc}") from None
    if manifest.get("format") != EXPORT_FORMAT:
        raise LeavingError("エクスポートの形式が違います")
    for name, entry in manifest["tables"].items():
        for kind in ("json", "csv"):
            _check_file(directory / entry[kind], entry[f"{kind}_sha256"])
    for extra in manifest.get("extras", []):
        _check_file(directory / extra["file"], extra["sha256"])
    return manifest


def manifest_digest(directory: Path) -> str:
    return _sha256(Path(directory) / MANIFEST)


def _check_file(path: Path, expected: str) -> None:
    if not path.exists() or _sha256(path) != expected:
        raise LeavingError(f"ファイルが欠けているか内容が違います: {path.name}")


# --- Import ----------------------------------------------------------------------------


def import_city(db: Session, directory: Path) -> dict[str, int]:
    """Load an export into this deployment, keeping every identifier; refuses when the city
    or any identifier already exists here. Returns rows inserted per table."""
    manifest = read_manifest(directory)
    code = manifest["municipality"]["code"]
    if db.scalar(select(Municipality.id).where(Municipality.code == code)) is not None:
        raise LeavingError(f"団体コード {code} はこの環境に登録済みです")
    known = {ct.table.name: ct.table for ct in city_tables()}
    missing = sorted(set(manifest["tables"]) - set(known))
    if missing:
        raise LeavingError(f"この環境にない表があります（サービス未導入）: {', '.join(missing)}")
    inserted = {}
    for name, table in known.items():  # metadata order: parents first
        if name not in manifest["tables"]:
            continue
        records = json.loads((Path(directory) / manifest["tables"][name]["json"])
                             .read_text(encoding="utf-8"))
        rows = [_from_json(table, record) for record in records]
        _refuse_id_clash(db, table, rows)
        if rows:
            db.execute(table.insert(), rows)
        inserted[name] = len(rows)
    _advance_sequences(db, [known[n] for n in inserted])
    return inserted


def _from_json(table: Table, record: dict) -> dict:
    row = {}
    for column in table.columns:
        if column.name in SECRET_COLUMNS.get(table.name, {}):
            row[column.name] = SECRET_COLUMNS[table.name][column.name]()
        elif column.name in record:
            row[column.name] = _decode(column, record[column.name])
    return row


def _decode(column, value):
    if value is None:
        return None
    if isinstance(column.type, Enum) and column.type.enum_class is not None:
        return column.type.enum_class(value)
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return value
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is bytes:
        return base64.b64decode(value)
    return value


def _refuse_id_clash(db: Session, table: Table, rows: list[dict]) -> None:
    pk = list(table.primary_key.columns)
    if len(pk) != 1 or not rows:
        return
    ids = [row[pk[0].name] for row in rows]
    for start in range(0, len(ids), 500):
        clash = db.execute(across_municipalities(
            select(pk[0]).where(pk[0].in_(ids[start:start + 500])).limit(1))).first()
        if clash is not None:
            raise LeavingError(f"{table.name} の番号 {clash[0]} はこの環境で使用中です"
                               "（新しい環境に取り込んでください）")


def _advance_sequences(db: Session, tables: list[Table]) -> None:
    """PostgreSQL: explicit ids leave the serial sequences behind; move them past."""
    if db.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer):
            db.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                f"GREATEST((SELECT COALESCE(MAX({pk[0].name}), 0) FROM {table.name}), 1))"))


# --- Deletion --------------------------------------------------------------------------


def delete_city(db: Session, code: str, manifest: dict) -> dict[str, int]:
    """Delete every row of the city, children first, in the caller's transaction. The
    export's manifest must match the city's current row counts, so nothing written after
    the export is lost. Returns rows deleted per table; raises if any row remains."""
    city = find_city(db, code)
    if manifest.get("municipality", {}).get("code") != code:
        raise LeavingError("エクスポートの団体コードが違います")
    now = counts(db, city.id)
    for name, entry in manifest["tables"].items():
        if now.get(name, 0) != entry["rows"]:
            raise LeavingError(f"エクスポート後に {name} が変わりました（{entry['rows']} → "
                               f"{now.get(name, 0)} 行）。もう一度エクスポートしてください")
    deleted = {}
    with _access_log_deletion_allowed(db, city.id):
        for ct in reversed(city_tables()):
            result = db.execute(across_municipalities(
                delete(ct.table).where(city_rows(ct.table, city.id))))
            deleted[ct.table.name] = result.rowcount
    left = {name: n for name, n in counts(db, city.id).items() if n}
    if left:
        raise LeavingError(f"削除できなかった行があります: {left}")
    db.expunge_all()
    return deleted


class _access_log_deletion_allowed:
    """Inside the deletion's transaction only, tell the access log's append-only trigger
    that this city's rows may go (migration 0411): a departing city takes its log with it
    (exported first). Nothing is disabled or locked for other cities, whose pages go on
    writing their log rows meanwhile; the permission ends with this block, and a rollback
    ends it too."""

    def __init__(self, db: Session, municipality_id: int) -> None:
        self.db, self.city = db, municipality_id
        self.postgresql = db.get_bind().dialect.name == "postgresql"

    def __enter__(self):
        if self.postgresql:
            self._name(str(self.city))
        else:
            self.db.execute(text("INSERT INTO access_log_deletion (municipality_id) VALUES (:m)"),
                            {"m": self.city})
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False  # the rollback takes the permission back
        if self.postgresql:
            self._name("")
        else:
            self.db.execute(text("DELETE FROM access_log_deletion WHERE municipality_id = :m"),
                            {"m": self.city})
        return False

    def _name(self, city: str) -> None:
        # set_config(…, true) is SET LOCAL with a bound value: it lasts this transaction only.
        self.db.execute(text("SELECT set_config('madoguchi.deleting_city', :m, true)"), {"m": city})


# --- Helpers ---------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
