"""The drug code master in the database: loading a published file (all or nothing,
idempotent) and mapping a notebook's codes at read time, in one query.

The tables are national data shared by every city (see models.py): a query on them needs
no municipality, and nothing here touches a resident's rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.orm import Session

from services.medication.alerts import MASTER_KINDS, AlertReport, find_duplicates
from services.medication.master_files import HOT, RECEIPT, SSK, MasterFile
from services.medication.models import MedicationMasterCode, MedicationMasterVersion
from services.medication.services import Dispensed, bulk_insert, courses, now_utc

# Which master answers first for a code kind: the 支払基金 master is the authority on
# レセ電 codes; HOT codes are only in MEDIS-DC's.
PREFERENCE = {RECEIPT: (SSK, HOT)}
SOURCE_NAMES = {HOT: "医薬品HOTコードマスター（MEDIS-DC）", SSK: "医薬品マスター（支払基金）"}


class MasterRefused(RuntimeError):
    """The file is older than the master already loaded (the message says both dates)."""


@dataclass(frozen=True)
class LoadOutcome:
    status: str               # loaded, replaced, unchanged
    version: MedicationMasterVersion
    previous_date: date | None = None


def load(db: Session, master: MasterFile, actor: str, allow_older: bool = False) -> LoadOutcome:
    """Make `master` the loaded version of its source, inside the caller's transaction:
    the same file again changes nothing; a newer one replaces every code of the older; an
    older one is refused unless `allow_older` (going back after a faulty release)."""
    current = db.get(MedicationMasterVersion, master.source)
    if current is not None and current.content_hash == master.content_hash:
        return LoadOutcome("unchanged", current, current.version_date)
    if current is not None and master.version_date < current.version_date and not allow_older:
        raise MasterRefused(
            f"{SOURCE_NAMES[master.source]}は {current.version_date:%Y-%m-%d} 版が読み込まれています。"
            f"{master.version_date:%Y-%m-%d} 版（{master.file_name}）は古いため読み込みません"
            "（古い版に戻すときは --allow-older）。")
    previous = current.version_date if current is not None else None
    db.execute(delete(MedicationMasterCode).where(MedicationMasterCode.source == master.source))
    bulk_insert(db, MedicationMasterCode.__table__, [
        {"source": master.source, "code_kind": row.code_kind, "code": row.code,
         "structured_code": row.structured_code, "name": row.name} for row in master.codes])
    if current is None:
        current = MedicationMasterVersion(source=master.source)
        db.add(current)
    current.file_name, current.version_date = master.file_name[:200], master.version_date
    current.content_hash, current.records = master.content_hash, master.records
    current.codes, current.loaded_at, current.loaded_by = len(master.codes), now_utc(), actor[:80]
    db.flush()
    return LoadOutcome("replaced" if previous else "loaded", current, previous)


def versions(db: Session) -> list[MedicationMasterVersion]:
    return list(db.scalars(select(MedicationMasterVersion).order_by(MedicationMasterVersion.source)))


@dataclass(frozen=True)
class LoadedVersion:
    source: str
    file_name: str
    version_date: date

    @property
    def title(self) -> str:
        return SOURCE_NAMES[self.source]


@dataclass
class CodeMap:
    """The loaded masters and what they say about the codes asked for."""

    versions: list[LoadedVersion] = field(default_factory=list)
    found: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (source, kind, code)

    @property
    def loaded(self) -> bool:
        return bool(self.versions)

    def covers(self, kind: str) -> bool:
        """Whether a loaded master lists codes of this kind (HOT codes: only MEDIS-DC's)."""
        return any(v.source in PREFERENCE.get(kind, (HOT,)) for v in self.versions)

    def structured(self, kind: str, code: str) -> str | None:
        for source in PREFERENCE.get(kind, (HOT,)):
            if (source, kind, code) in self.found:
                return self.found[source, kind, code]
        return None


def code_map(db: Session, wanted: set[tuple[str, str]]) -> CodeMap:
    """The loaded versions and the mappings of `wanted` ((kind, code) pairs) in ONE query,
    whatever the number of drugs: each version row, joined to its codes among those asked
    (a master with none of them still answers, with NULLs)."""
    codes = sorted({code for kind, code in wanted if kind in MASTER_KINDS})
    result = CodeMap()
    for source, file_name, version_date, kind, code, structured in db.connection().execute(
            _VERSIONS_WITH_CODES, {"codes": codes}):
        if not result.versions or result.versions[-1].source != source:
            result.versions.append(LoadedVersion(source, file_name, version_date))
        if code is not None and (kind, code) in wanted:
            result.found[source, kind, code] = structured
    return result


# Built once: every notebook page runs it (the masters are shared by all cities).
_V, _C = MedicationMasterVersion.__table__.c, MedicationMasterCode.__table__.c
_VERSIONS_WITH_CODES = (
    select(_V.source, _V.file_name, _V.version_date, _C.code_kind, _C.code, _C.structured_code)
    .outerjoin(MedicationMasterCode.__table__,
               and_(_C.source == _V.source, _C.code.in_(bindparam("codes", expanding=True))))
    .order_by(_V.source))


def duplicate_report(db: Session, items: list[Dispensed]) -> tuple[AlertReport, CodeMap]:
    """重複投薬の確認 of the dispensed drugs, their レセ電 and HOT codes mapped through the
    loaded masters (one query for the whole page)."""
    codes = code_map(db, {(d.drug.code_kind, d.drug.code.strip()) for d in items})
    return find_duplicates(courses(items, codes)), codes
