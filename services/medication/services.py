"""お薬手帳 domain logic: storing parsed JAHIS documents and reading them back.
No Flask here: the views pass in the session, the resident and who is acting."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from portal.api import Read, Rows, scoped, tenant_of
from services.medication import jahis
from services.medication.alerts import (MASTER_KINDS, NO_MASTER, NOT_IN_MASTER, Course,
                                        course_end, normalize)
from services.medication.jahis import records as r
from services.medication.jahis.reader import paused_gc
from services.medication.jahis.writer import CRLF, head_lines, unknown_line, visit_lines
from services.medication.models import (MedicationDocument, MedicationDrug, MedicationMemo,
                                        MedicationOtcDrug, MedicationPatientNote,
                                        MedicationRp, MedicationUsage, MedicationVisit,
                                        MedicationVisitNote)

# 内服, 内滴, 浸煎, 湯: the quantity of a 301 record counts days.
DAY_COUNTED_FORMS = {"1", "2", "6", "7"}
ALLERGY_KINDS = {"1", "2"}  # アレルギー歴, 副作用歴: shown before anything else


# What an import counts, in the order the result page lists them.
CATEGORIES = ("visits", "notes", "otc_drugs", "memos", "other")


@dataclass
class ImportOutcome:
    """What an import did. `duplicate` means nothing in the document was new (the
    document itself, or everything in it, was there already): nothing was written.
    `added` and `known` count, per category of `CATEGORIES`, what was new and what the
    notebook already held."""

    document: MedicationDocument | None
    duplicate: bool = False
    records_written: int = 0
    added: dict = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    known: dict = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))

    @property
    def visits_added(self) -> int:
        return self.added["visits"]

    @property
    def visits_already_known(self) -> int:
        return self.known["visits"]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def import_document(db: Session, resident_id: int, document: r.Document, source: str,
                    actor: str) -> ImportOutcome:
    """Store one parsed document for the resident, inside the caller's transaction.

    Idempotent item by item: a visit, allergy, OTC drug or memo the notebook already holds
    (from this document read before, our own export of it, the same content in another
    encoding, version, line ending or order) is counted as known and not stored again; a
    document with nothing new writes nothing at all."""
    with paused_gc():
        return _import(db, resident_id, document, source, actor)


def _import(db, resident_id, document, source, actor) -> ImportOutcome:
    visit_texts = ["\r\n".join(visit_lines(visit)) for visit in document.visits]
    canonical = "".join(line + CRLF for line in head_lines(document))
    canonical += "".join(text + CRLF for text in visit_texts)
    digest = sha256(canonical)
    existing = db.scalar(scoped(MedicationDocument, MedicationDocument.resident_id == resident_id,
                                MedicationDocument.content_hash == digest))
    outcome = ImportOutcome(existing)
    new_visits = _new_visits(db, resident_id, document, visit_texts, outcome)
    top_rows = _new_top_level(db, resident_id, document, outcome)
    if existing is not None or not any(outcome.added.values()):
        outcome.duplicate = True
        return outcome
    patient = document.patient
    row = MedicationDocument(
        resident_id=resident_id, content_hash=digest, source=source,
        jahis_version=document.version[:2], output_kind=document.output_kind[:1],
        canonical_text=canonical, patient_name=patient.name[:128] if patient else "",
        patient_birth_date=patient.birth_date if patient else None,
        imported_at=now_utc(), imported_by=actor[:80])
    db.add(row)
    db.flush()  # the tenant check of the ORM runs here; the rows below inherit the tenant
    outcome.document = row
    for item in top_rows:
        item.resident_id, item.document_id = resident_id, row.id
        db.add(item)
    outcome.records_written += len(top_rows)
    _VisitWriter(db, {"municipality_id": row.municipality_id, "resident_id": resident_id},
                 row.id, outcome).store(new_visits)
    row.records_written = outcome.records_written
    db.flush()
    return outcome


def _new_visits(db, resident_id, document, visit_texts, outcome) -> list[tuple[r.Visit, str]]:
    """The visits not yet in the notebook (a visit is known by the hash of its text)."""
    known = set(db.scalars(scoped(MedicationVisit.content_hash,
                                  MedicationVisit.resident_id == resident_id)))
    new_visits = []
    for visit, text in zip(document.visits, visit_texts):
        digest = sha256(text)
        if digest in known:
            outcome.known["visits"] += 1
        else:
            known.add(digest)
            new_visits.append((visit, digest))
            outcome.added["visits"] += 1
    return new_visits


def _new_top_level(db, resident_id, document, outcome) -> list:
    """Rows for the allergies, OTC drugs and memos not yet in the notebook, compared by
    the content they are stored with (what the pages show)."""
    otc, memos = other_records(db, resident_id)
    known = {note_key(n) for n in patient_notes(db, resident_id)}
    known |= {otc_key(o) for o in otc} | {memo_key(m) for m in memos}
    rows = []
    for category, candidates in (("notes", _note_rows(document)), ("otc_drugs", _otc_rows(document)),
                                 ("memos", _memo_rows(document))):
        for row in candidates:
            key = row_key(row)
            if key in known:
                outcome.known[category] += 1
            else:
                known.add(key)
                rows.append(row)
                outcome.added[category] += 1
    _count_unknown_records(db, resident_id, document, outcome)
    return rows


def _note_rows(document) -> list:
    return [MedicationPatientNote(kind=note.kind[:2], text=note.text) for note in document.notes]


def _otc_rows(document) -> list:
    return [MedicationOtcDrug(name=otc.name[:200], start_date=otc.start_date,
                              end_date=otc.end_date, jan_code=otc.jan_code[:20],
                              ingredients="、".join(i.name for i in otc.ingredients))
            for otc in document.otc_drugs]


def _memo_rows(document) -> list:
    rows = [MedicationMemo(kind="memo", text=m.text, written_on=m.written_on)
            for m in document.memos]
    rows += [MedicationMemo(kind="patient", text=e.text, written_on=e.written_on)
             for e in document.patient_entries]
    rows += [MedicationMemo(kind="family_pharmacist", written_on=p.start_date,
                            text=" ".join(t for t in (p.name, p.pharmacy, p.contact) if t))
             for p in document.family_pharmacists]
    return rows


def note_key(row) -> tuple:
    return ("note", row.kind, row.text)


def otc_key(row) -> tuple:
    return ("otc", row.name, row.start_date, row.end_date, row.jan_code, row.ingredients)


def memo_key(row) -> tuple:
    return ("memo", row.kind, row.text, row.written_on)


def row_key(row) -> tuple:
    keys = {MedicationPatientNote: note_key, MedicationOtcDrug: otc_key, MedicationMemo: memo_key}
    return keys[type(row)](row)


def _count_unknown_records(db, resident_id, document, outcome) -> None:
    """Records outside a visit that this reader does not know are kept only in the
    document's text: one is new unless an earlier document of the notebook holds it."""
    for record in document.unknown:
        line = CRLF + unknown_line(record) + CRLF
        held = db.scalar(scoped(MedicationDocument.id,
                                MedicationDocument.resident_id == resident_id,
                                MedicationDocument.canonical_text.contains(line, autoescape=True))
                         .limit(1))
        (outcome.known if held else outcome.added)["other"] += 1


class _VisitWriter:
    """Writes new visits with their RPs, drugs, usages and notes as a few multi-row
    INSERTs (parents first, their ids read back by key, then children), not object by
    object: a full notebook holds tens of thousands of records. Every row carries the
    document's municipality and resident (`owner`), set here since bulk INSERTs bypass
    the ORM's flush events."""

    def __init__(self, db: Session, owner: dict, document_id: int, outcome: ImportOutcome):
        self.db, self.owner, self.document_id, self.outcome = db, owner, document_id, outcome

    def store(self, visits: list[tuple[r.Visit, str]]) -> None:
        if not visits:
            return
        self.insert(MedicationVisit, [self.visit_row(visit, digest) for visit, digest in visits])
        visit_ids = self.visit_ids()
        rps, rp_rows, notes = [], [], []
        for visit, digest in visits:
            visit_id = visit_ids[digest]
            for position, (doctor, rp) in enumerate(visit.all_rps()):
                rps.append((rp, visit_id, visit.dispensed_on))
                rp_rows.append(self.rp_row(visit_id, position, doctor, rp))
            notes += self.visit_notes(visit_id, visit)
        self.insert(MedicationRp, rp_rows)
        rp_ids = self.rp_ids(visit_ids.values())
        rps = [(rp, rp_ids[row["visit_id"], row["position"]], visit_id, dispensed_on)
               for (rp, visit_id, dispensed_on), row in zip(rps, rp_rows)]
        drugs = [self.drug_row(rp_id, visit_id, dispensed_on, index, drug)
                 for rp, rp_id, visit_id, dispensed_on in rps
                 for index, drug in enumerate(rp.drugs)]
        usages = [self.usage_row(rp_id, rp) for rp, rp_id, _v, _d in rps if rp.usage is not None]
        self.insert(MedicationDrug, drugs)
        self.insert(MedicationUsage, usages)
        self.insert(MedicationVisitNote, notes)
        self.outcome.records_written += len(visits) + len(notes) + len(drugs) + len(usages)

    def insert(self, model, rows: list[dict]) -> None:
        # Plain executemany, no RETURNING: the ids are read back in one query per table
        # (below), which measured faster than an ordered RETURNING, above all on PostgreSQL.
        if rows:
            bulk_insert(self.db, model.__table__, rows)

    def visit_ids(self) -> dict[str, int]:
        """This document's visits by content hash (unique per resident)."""
        return dict(self.db.execute(
            scoped(MedicationVisit.content_hash, MedicationVisit.document_id == self.document_id)
            .add_columns(MedicationVisit.id)).all())

    def rp_ids(self, visit_ids) -> dict[tuple[int, int], int]:
        """This document's RPs by (visit id, position). The new visits' ids are known, so
        no join: the resident's RPs from the first of them on, kept if theirs."""
        wanted = set(visit_ids)
        rows = self.db.execute(
            scoped(MedicationRp.visit_id).add_columns(MedicationRp.position, MedicationRp.id)
            .where(MedicationRp.resident_id == self.owner["resident_id"],
                   MedicationRp.visit_id >= min(wanted)))
        return {(visit_id, position): rp_id for visit_id, position, rp_id in rows
                if visit_id in wanted}

    def visit_row(self, visit: r.Visit, digest: str) -> dict:
        pharmacy = visit.pharmacy or r.DispensingInstitution()
        prescriber = visit.prescriber or r.PrescribingInstitution()
        pharmacist = visit.pharmacists[0] if visit.pharmacists else r.Pharmacist()
        return dict(
            self.owner, document_id=self.document_id, content_hash=digest,
            dispensed_on=visit.dispensed_on, pharmacy_name=pharmacy.name[:200],
            pharmacy_code=pharmacy.code[:16], pharmacy_prefecture=pharmacy.prefecture[:4],
            pharmacy_address=pharmacy.address[:200], pharmacy_phone=pharmacy.phone[:40],
            pharmacist_name=pharmacist.name[:100], pharmacist_contact=pharmacist.contact[:100],
            prescriber_name=prescriber.name[:200], prescriber_code=prescriber.code[:16])

    def rp_row(self, visit_id: int, position: int, doctor, rp: r.Rp) -> dict:
        return dict(self.owner, visit_id=visit_id, position=position, rp_number=rp.number,
                    doctor_name=doctor.name[:100] if doctor else "",
                    doctor_department=doctor.department[:100] if doctor else "")

    def drug_row(self, rp_id, visit_id, dispensed_on, position, drug: r.Drug) -> dict:
        return dict(
            self.owner, rp_id=rp_id, visit_id=visit_id, position=position,
            dispensed_on=dispensed_on, name=drug.name[:200],
            search_text=normalize(f"{drug.name} {drug.generic_name}")[:400],
            dose=drug.dose[:20], unit=drug.unit[:40], code_kind=drug.code_kind[:2],
            code=drug.code[:20], generic_name=drug.generic_name[:200],
            generic_code_kind=drug.generic_code_kind[:2], generic_code=drug.generic_code[:20],
            supplements="\n".join(s.text for s in drug.supplements),
            cautions="\n".join(c.text for c in drug.cautions))

    def usage_row(self, rp_id: int, rp: r.Rp) -> dict:
        usage = rp.usage
        return dict(
            self.owner, rp_id=rp_id, text=usage.text[:200], quantity=usage.quantity[:20],
            quantity_unit=usage.quantity_unit[:40], dosage_form=usage.dosage_form[:2],
            code_kind=usage.code_kind[:2], code=usage.code[:40], days=usage_days(usage),
            supplements="\n".join(s.text for s in rp.usage_supplements),
            cautions="\n".join(c.text for c in rp.cautions))

    def visit_notes(self, visit_id: int, visit: r.Visit) -> list[dict]:
        groups = [("caution", visit.cautions), ("institution", visit.institution_notes),
                  ("leftover", visit.leftover_notes), ("remark", visit.remarks),
                  ("patient", visit.patient_entries)]
        return [dict(self.owner, visit_id=visit_id, kind=kind, text=item.text,
                     info_kind=getattr(item, "kind", "")[:4],
                     written_on=getattr(item, "written_on", None))
                for kind, items in groups for item in items]


def bulk_insert(db: Session, table, rows: list[dict]) -> None:
    """INSERT the rows (dicts with the same keys) in one executemany of the driver, in the
    session's transaction. The SQL is SQLAlchemy's own INSERT for the table, compiled once
    for the dialect with named parameters; only the columns whose type converts values
    (dates on SQLite) go through their bind processors, in place. SQLAlchemy's per-row
    parameter handling cost more than the database's own work (bench/medication_import.py)."""
    connection = db.connection()
    dialect = connection.dialect
    if dialect.driver == "psycopg":
        _copy_rows(connection, table, rows)
        return
    if dialect.positional:  # sqlite3 takes named parameters too: the dicts as they are
        dialect = type(dialect)(paramstyle="named")
    columns = list(rows[0])
    compiled = table.insert().compile(dialect=dialect, column_keys=columns)
    convert = [(key, processor) for key in columns
               if (processor := table.c[key].type.bind_processor(dialect)) is not None]
    for row in rows:  # the rows are this writer's own dicts: converted in place
        for key, processor in convert:
            row[key] = processor(row[key])
    connection.exec_driver_sql(str(compiled), rows)


def _copy_rows(connection, table, rows: list[dict]) -> None:
    """PostgreSQL: COPY … FROM STDIN through psycopg, the server's bulk-load path (one
    round trip instead of one per row); psycopg adapts dates and text itself."""
    columns = list(rows[0])
    names = ", ".join(connection.dialect.identifier_preparer.quote(c) for c in columns)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def usage_days(usage: r.Usage) -> int | None:
    """How many days an RP lasts: the 301 quantity when it counts days (内服 or the unit
    says 日), else None — a 屯服's quantity counts doses, not days."""
    if not usage.quantity.isdigit():
        return None
    if usage.dosage_form in DAY_COUNTED_FORMS or "日" in usage.quantity_unit:
        return int(usage.quantity) or None
    return None


# --- reading -----------------------------------------------------------------------------

def timeline(db: Session, resident_id: int) -> list[VisitRead]:
    """Every visit, newest first, with its RPs (drugs, usage) and notes.

    Read as rows, not ORM objects: a notebook page shows hundreds of them and only reads
    them, and building, identity-mapping and tracking an ORM object for each was most of
    the timeline page's time. The stand-ins carry the models' attribute names, so views,
    templates and the alert check read either. The visits with their RPs, usages and drugs
    come in one statement (a statement's own cost was most of reading a table), the
    visits' notes in a second."""
    visits, by_visit, by_rp = [], {}, {}
    tenant = tenant_of(db, "rows of the notebook")
    for visit, rp, usage, drug in _split(db.connection().execute(
            _NOTEBOOK, {"resident_id": resident_id, "tenant": tenant})):
        if visit["id"] not in by_visit:
            by_visit[visit["id"]] = VisitRead(visit)
            visits.append(by_visit[visit["id"]])
        if rp["id"] is not None and rp["id"] not in by_rp:
            by_rp[rp["id"]] = Read(rp, drugs=[], usage=None if usage["id"] is None else Read(usage))
            by_visit[visit["id"]].rps.append(by_rp[rp["id"]])
        if drug["id"] is not None:
            by_rp[rp["id"]].drugs.append(Read(drug))
    for note in _VISIT_NOTES(db, resident_id=resident_id):
        by_visit[note.visit_id].notes.append(note)
    return visits


# The notebook's visits ⋈ RPs ⋈ usages (one per RP at most) ⋈ drugs, in the page's order.
_V, _R, _U, _D = (m.__table__ for m in (MedicationVisit, MedicationRp, MedicationUsage,
                                        MedicationDrug))
_PARTS = (_V, _R, _U, _D)
_NOTEBOOK = (
    select(*(c.label(f"t{i}_{c.name}") for i, table in enumerate(_PARTS) for c in table.c))
    .select_from(_V.outerjoin(_R, _R.c.visit_id == _V.c.id)
                 .outerjoin(_U, _U.c.rp_id == _R.c.id)
                 .outerjoin(_D, _D.c.rp_id == _R.c.id))
    .where(_V.c.resident_id == bindparam("resident_id"),
           _V.c.municipality_id == bindparam("tenant"))
    .order_by(_V.c.dispensed_on.desc(), _V.c.id.desc(), _R.c.position, _R.c.id,
              _D.c.position, _D.c.id))


def _slices(tables) -> tuple:
    """(start, end, column names) of each table's columns in the joined row."""
    start, out = 0, []
    for table in tables:
        names = tuple(c.name for c in table.c)
        out.append((start, start + len(names), names))
        start += len(names)
    return tuple(out)


_SLICES = _slices(_PARTS)


def _split(result):
    """Each joined row as one dict of columns per table (visit, RP, usage, drug)."""
    for row in result:
        yield [dict(zip(names, row[start:end])) for start, end, names in _SLICES]


def _of_resident(model, *order, stand_in=None) -> Rows:
    """A notebook table's rows of one resident, in `order`: built once (portal.db.Rows)."""
    return Rows(model, model.resident_id == bindparam("resident_id"), order_by=order,
                stand_in=stand_in)


class VisitRead(Read):
    """A visit read for a page, with its RPs and notes filled in by `timeline`."""
    pharmacy_key = MedicationVisit.pharmacy_key

    def __init__(self, columns: dict) -> None:
        super().__init__(columns, rps=[], notes=[])


_VISITS = _of_resident(MedicationVisit, MedicationVisit.dispensed_on.desc(),
                       MedicationVisit.id.desc(), stand_in=VisitRead)
_RPS = _of_resident(MedicationRp, MedicationRp.position, MedicationRp.id)
_DRUGS = _of_resident(MedicationDrug, MedicationDrug.position, MedicationDrug.id)
_USAGES = _of_resident(MedicationUsage, MedicationUsage.id)
_VISIT_NOTES = _of_resident(MedicationVisitNote, MedicationVisitNote.id)
_PATIENT_NOTES = _of_resident(MedicationPatientNote, MedicationPatientNote.id)
_OTC = _of_resident(MedicationOtcDrug, MedicationOtcDrug.start_date, MedicationOtcDrug.id)
_MEMOS = _of_resident(MedicationMemo, MedicationMemo.written_on, MedicationMemo.id)


def patient_notes(db: Session, resident_id: int) -> list[Read]:
    """患者特記, allergies and adverse reactions first."""
    notes = _PATIENT_NOTES(db, resident_id=resident_id)
    return sorted(notes, key=lambda n: (n.kind not in ALLERGY_KINDS, n.kind))


def other_records(db: Session, resident_id: int) -> tuple[list, list]:
    """OTC drugs and memos (手帳メモ, 患者等記入, かかりつけ薬剤師)."""
    otc = _OTC(db, resident_id=resident_id)
    memos = _MEMOS(db, resident_id=resident_id)
    return otc, memos


@dataclass(frozen=True)
class Dispensed:
    """One drug as dispensed, with the RP's usage and the visit: a row of the views."""

    drug: MedicationDrug
    rp: MedicationRp
    visit: MedicationVisit

    @property
    def usage(self) -> MedicationUsage | None:
        return self.rp.usage

    @property
    def end(self) -> date | None:
        return course_end(self.visit.dispensed_on, self.usage.days if self.usage else None)

    @property
    def key(self) -> str:
        return drug_key(self.drug)


def drug_key(drug: MedicationDrug) -> str:
    """Which drug, for grouping a history: its code when it has one, else its name."""
    if drug.code and drug.code_kind not in ("", "1"):
        return f"{drug.code_kind}-{drug.code}"
    return "name-" + normalize(drug.name)


def dispensed(db: Session, resident_id: int) -> list[Dispensed]:
    """Every drug ever dispensed, newest first."""
    return dispensed_in(timeline(db, resident_id))


def dispensed_in(visits: list[MedicationVisit]) -> list[Dispensed]:
    """The drugs of visits already loaded (the timeline page has them: no second query)."""
    return [Dispensed(drug, rp, visit) for visit in visits for rp in visit.rps for drug in rp.drugs]


def currently_taking(items: list[Dispensed], today: date) -> tuple[list, list]:
    """Drugs whose course (dispensing date + days) includes today, and recent drugs whose
    period cannot be known (屯服, 外用…) dispensed in the last 90 days."""
    current = [d for d in items if d.end and d.visit.dispensed_on <= today <= d.end]
    unknown = [d for d in items if d.end is None and 0 <= (today - d.visit.dispensed_on).days <= 90]
    return current, unknown


def drug_histories(items: list[Dispensed]) -> dict[str, list[Dispensed]]:
    """Dispensings grouped per drug (by code, else by name), most recent drug first."""
    groups: dict[str, list[Dispensed]] = {}
    for item in items:
        groups.setdefault(item.key, []).append(item)
    return groups


def search(db: Session, resident_id: int, query: str) -> list[Dispensed]:
    """Drugs whose name or generic name, or whose pharmacy or institution name, matches
    `query` (half-width kana and full-width letters match their other forms)."""
    needle = normalize(query)
    if not needle:
        return []
    # autoescape: % and _ typed by the resident are characters, not wildcards
    text = query.strip()
    visits = db.scalars(scoped(MedicationVisit.id, MedicationVisit.resident_id == resident_id,
                               or_(MedicationVisit.pharmacy_name.contains(text, autoescape=True),
                                   MedicationVisit.prescriber_name.contains(text, autoescape=True))))
    visit_ids = set(visits)
    drug_ids = set(db.scalars(scoped(MedicationDrug.id, MedicationDrug.resident_id == resident_id,
                                     MedicationDrug.search_text.contains(needle, autoescape=True))))
    return [d for d in dispensed(db, resident_id)
            if d.drug.id in drug_ids or d.visit.id in visit_ids]


def courses(items: list[Dispensed], codes=None) -> list[Course]:
    """The courses the duplicate check compares; `codes` (a drug_master.CodeMap) maps
    レセ電 and HOT codes, None when no master is at hand."""
    return [Course(d.drug.id, d.drug.name, d.drug.generic_name, d.drug.code_kind, d.drug.code,
                   d.visit.pharmacy_name, d.visit.pharmacy_key, d.visit.dispensed_on, d.end,
                   *mapping(d.drug, codes))
            for d in items]


def mapping(drug: MedicationDrug, codes) -> tuple[str, str]:
    """(mapped code, why none) for a drug whose code needs the master, else ("", "")."""
    code = drug.code.strip()
    if drug.code_kind not in MASTER_KINDS or not code:
        return "", ""
    if codes is None or not codes.covers(drug.code_kind):
        return "", NO_MASTER
    mapped = codes.structured(drug.code_kind, code)
    return (mapped, "") if mapped else ("", NOT_IN_MASTER)


def alerts_by_drug(alerts) -> dict[int, list[tuple]]:
    """Each duplicate alert under both drugs it concerns: drug id → [(alert, the other
    course)], so a page can show it beside each drug."""
    found: dict[int, list[tuple]] = {}
    for alert in alerts:
        found.setdefault(alert.first.drug_id, []).append((alert, alert.second))
        found.setdefault(alert.second.drug_id, []).append((alert, alert.first))
    return found


def notebook(db: Session, resident_id: int) -> r.Document:
    """The resident's whole notebook as one JAHIS document (出力区分 2, patient → pharmacy):
    the imported documents merged, each visit once, oldest first."""
    documents = db.scalars(scoped(MedicationDocument, MedicationDocument.resident_id == resident_id)
                           .order_by(MedicationDocument.imported_at, MedicationDocument.id))
    merged = r.Document(version="08", output_kind="2")
    seen: set[str] = set()
    for row in documents:
        _merge(merged, jahis.parse(row.canonical_text).document, seen)
    merged.visits.sort(key=lambda v: v.dispensed_on or date.min)
    return merged


def _merge(into: r.Document, doc: r.Document, seen: set[str]) -> None:
    into.patient = doc.patient or into.patient
    for attr in ("notes", "otc_drugs", "memos", "family_pharmacists", "patient_entries"):
        target = getattr(into, attr)
        target.extend(item for item in getattr(doc, attr) if item not in target)
    for visit in doc.visits:
        digest = sha256("\r\n".join(visit_lines(visit)))
        if digest not in seen:
            seen.add(digest)
            into.visits.append(visit)


# --- whose notebook ----------------------------------------------------------------------

_KATAKANA = str.maketrans({chr(c): chr(c + 0x60) for c in range(0x3041, 0x3097)})


def fold_name(text: str) -> str:
    """A name as compared: NFKC (half-width kana, full-width letters), no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def fold_kana(text: str) -> str:
    """Kana as compared: hiragana and katakana alike, half- and full-width alike."""
    return fold_name(text).translate(_KATAKANA)


def patient_mismatches(patient: r.PatientRecord | None, resident) -> list[str]:
    """Why the JAHIS patient record (1) is not the notebook's owner: `name`, `birth_date`,
    `sex`; empty when it is, or when the document names nobody. The name matches when the
    kanji or the kana do (a pharmacy may lack a rare kanji); birth date and sex, when the
    document gives them, must match."""
    if patient is None:
        return []
    reasons = []
    same_name = fold_name(patient.name) == fold_name(resident.family_name + resident.given_name)
    same_kana = bool(patient.name_kana.strip()) and fold_kana(patient.name_kana) == fold_kana(
        resident.family_name_kana + resident.given_name_kana)
    if not (same_name or same_kana):
        reasons.append("name")
    if patient.birth_date is not None and patient.birth_date != resident.birth_date:
        reasons.append("birth_date")
    if patient.sex.strip() in ("1", "2") and patient.sex.strip() != str(resident.sex.value):
        reasons.append("sex")
    return reasons
