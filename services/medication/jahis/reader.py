"""Reading JAHIS text leniently: every problem becomes a Diagnostic, never an exception."""
from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from services.medication.jahis import records as r
from services.medication.jahis.compiled import BUILDERS
from services.medication.jahis.diagnostics import ERROR, WARNING, Diagnostic
from services.medication.jahis.text import DecodedLine, decode_lines

HEADER = re.compile(r"JAHISTC(\d{2})")
KNOWN_VERSIONS = {f"{n:02d}" for n in range(1, 9)}
_DIGITS = re.compile(r"\d+")
# Records that live inside a visit (after a 5).
_VISIT_RECORDS = {"11", "15", "51", "55", "201", "281", "291", "301", "311", "391",
                  "401", "411", "421", "501"}
_RP_KEYED = {number for number, cls in r.RECORD_TYPES.items() if getattr(cls, "RP_KEYED", False)}


@dataclass
class ParseResult:
    """The document as far as it could be read, and everything found wrong with it."""

    document: r.Document
    diagnostics: list[Diagnostic] = field(default_factory=list)
    encoding: str = "utf-8"

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        """What was kept despite a problem (or, as the message says, not kept)."""
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def ok(self) -> bool:
        """True when nothing makes the document unsafe to store (warnings allowed)."""
        return not self.errors


def parse(data: bytes | str) -> ParseResult:
    """Parse one JAHIS document (bytes in CP932/Shift_JIS/UTF-8, or already-decoded text).
    Parts of a document split by 911 records may be given concatenated, in any order."""
    with paused_gc():
        if isinstance(data, str):
            encoding, lines = "text", _text_lines(data)
        else:
            encoding, lines = decode_lines(data)
        return _parse_lines(encoding, lines)


def parse_files(files: list[bytes]) -> ParseResult:
    """Parse several files as one document — the parts of a 911-split document, in any
    order. Each file is decoded on its own (one may be CP932, another UTF-8); lines are
    numbered through the files in the order given."""
    encodings, lines = [], []
    with paused_gc():
        for data in files:
            encoding, decoded = decode_lines(data)
            encodings.append(encoding)
            lines += [DecodedLine(len(lines) + n, line.text, line.undecodable)
                      for n, line in enumerate(decoded, start=1)]
        return _parse_lines("+".join(dict.fromkeys(encodings)), lines)


@contextmanager
def paused_gc():
    """Pause the cyclic garbage collector while a document is read or stored. A document
    of 20,000 records makes some 100,000 objects, none in a reference cycle; each young
    generation collection would walk the growing heap again (half of the reading time,
    measured). Reference counting frees everything as usual; collection resumes after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse_lines(encoding: str, lines: list[DecodedLine]) -> ParseResult:
    with paused_gc():
        return _read_lines(encoding, lines)


def _read_lines(encoding: str, lines: list[DecodedLine]) -> ParseResult:
    diagnostics = [Diagnostic(ERROR, "undecodable", line.number, params={"encoding": encoding})
                   for line in lines if line.undecodable]
    lines = [line for line in lines if line.text.strip()]
    if not lines:
        return ParseResult(r.Document(), diagnostics + [Diagnostic(ERROR, "empty")], encoding)
    if any(_number_of(line) == r.SplitControl.NUMBER for line in lines):
        lines = _join_split_parts(lines, diagnostics)
    if not lines:
        return ParseResult(r.Document(), diagnostics + [Diagnostic(ERROR, "empty")], encoding)
    reader = _Reader(diagnostics)
    reader.read(lines)
    return ParseResult(reader.document, diagnostics, encoding)


def parse_fragments(fragments: list[bytes]) -> ParseResult:
    """Parse the contents of several QR codes read in sequence order.

    Vendor "structured append" cuts the bytes anywhere — even inside a two-byte CP932
    character — so fragments are joined as raw bytes and decoded once. A fragment that
    starts with the header is a whole part of a 911-split document: it starts a new line."""
    joined = bytearray()
    for fragment in fragments:
        if fragment.startswith(b"JAHISTC") and joined and joined[-1:] not in (b"\n", b"\r"):
            joined += b"\r\n"
        joined += fragment
    result = parse(bytes(joined))
    if fragments and not fragments[0].lstrip(b"\xef\xbb\xbf").startswith(b"JAHISTC"):
        result.diagnostics.insert(0, Diagnostic(ERROR, "fragment_no_header"))
    return result


def _text_lines(text: str) -> list[DecodedLine]:
    text = text.lstrip("\ufeff").rstrip("\x1a")
    parts = re.split(r"\r\n|\r|\n", text)
    if parts and parts[-1] == "":
        parts.pop()
    return [DecodedLine(n, t) for n, t in enumerate(parts, start=1)]


def _number_of(line: DecodedLine) -> str:
    return line.text.split(",", 1)[0].strip()


def _join_split_parts(lines: list[DecodedLine], diagnostics: list) -> list[DecodedLine]:
    """Reassemble a 911-split document: order the parts by part number, keep the first
    part's header, drop the others' headers and every 911 line."""
    parts = _cut_into_parts(lines, diagnostics)
    controls = [_split_control(part, diagnostics) for part in parts]
    ordered = parts  # on any failure keep the given order: the errors say what is wrong
    if all(c is not None for c in controls):
        if len({(c[0], c[1]) for c in controls}) > 1:
            for part, (data_id, total, _n) in zip(parts, controls):
                diagnostics.append(Diagnostic(ERROR, "split_mismatch", part[-1].number, "911",
                                              params={"value": f"{data_id}/{total}"}))
        else:
            numbers = [c[2] for c in controls]
            _check_complete(numbers, int(controls[0][1]), parts, diagnostics)
            ordered = [part for _n, part in sorted(zip(numbers, parts), key=lambda p: p[0])]
    body = [line for part in ordered for line in part
            if not HEADER.match(line.text) and _number_of(line) != r.SplitControl.NUMBER]
    header = next((line for part in ordered for line in part if HEADER.match(line.text)),
                  lines[0])
    return [header, *body] if HEADER.match(header.text) else body


def _cut_into_parts(lines, diagnostics) -> list[list[DecodedLine]]:
    parts: list[list[DecodedLine]] = []
    current: list[DecodedLine] = []
    for line in lines:
        if HEADER.match(line.text) and current:
            parts.append(current)
            current = []
        current.append(line)
        if _number_of(line) == r.SplitControl.NUMBER:
            parts.append(current)
            current = []
    if current:
        parts.append(current)
    return parts


def _split_control(part, diagnostics) -> tuple[str, str, int] | None:
    last = part[-1]
    if _number_of(last) != r.SplitControl.NUMBER or not HEADER.match(part[0].text):
        diagnostics.append(Diagnostic(ERROR, "split_missing_control", last.number))
        return None
    fields = last.text.split(",")[1:] + ["", "", ""]
    data_id, total, number = (f.strip() for f in fields[:3])
    if not (_DIGITS.fullmatch(number) and _DIGITS.fullmatch(total)):
        diagnostics.append(Diagnostic(ERROR, "split_bad_number", last.number, "911",
                                      params={"value": number}))
        return None
    return data_id, total, int(number)


def _check_complete(numbers, total, parts, diagnostics) -> None:
    seen = set()
    for number, part in zip(numbers, parts):
        if number in seen or not 1 <= number <= total:
            code = "split_duplicate" if number in seen else "split_bad_number"
            diagnostics.append(Diagnostic(ERROR, code, part[-1].number, "911",
                                          params={"value": number}))
        seen.add(number)
    missing = sorted(set(range(1, total + 1)) - seen)
    if missing:
        diagnostics.append(Diagnostic(ERROR, "split_incomplete",
                                      params={"value": ", ".join(map(str, missing))}))


class _Reader:
    """Walks the lines once, keeping the open visit, doctor and RP as state."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.document = r.Document()
        self.diagnostics = diagnostics
        self.visit: r.Visit | None = None
        self.doctor: r.PrescribingDoctor | None = None
        self.placers = {cls: getattr(self, name) for cls, name in self.PLACERS.items()}

    def note(self, severity, code, line, record=None, field_=None, **params) -> None:
        self.diagnostics.append(Diagnostic(severity, code, line.number, record, field_, params))

    def read(self, lines: list[DecodedLine]) -> None:
        self.read_header(lines[0])
        body = lines[1:] if HEADER.match(lines[0].text) else lines
        for line in body:
            self.read_line(line)

    def read_header(self, line: DecodedLine) -> None:
        fields = line.text.split(",")
        match = HEADER.match(fields[0])
        if not match:
            code = "prescription_symbol" if fields[0].startswith("JAHIS") else "no_header"
            self.note(ERROR, code, line)
            return
        self.document.version = match[1]
        if match[1] not in KNOWN_VERSIONS:
            self.note(WARNING, "unknown_version", line, version=match[1])
        kind = fields[1].strip() if len(fields) > 1 else ""
        self.document.output_kind = kind
        if kind not in ("1", "2"):
            self.note(WARNING, "bad_output_kind", line, field_="出力区分", value=kind)

    def read_line(self, line: DecodedLine) -> None:
        fields = line.text.split(",")
        number = fields[0]
        build = BUILDERS.get(number)
        if build is None:
            number = number.strip()
            build = BUILDERS.get(number)
        if build is None or number == r.SplitControl.NUMBER:
            if HEADER.match(line.text):
                self.note(WARNING, "stray_header", line)
            else:
                self.keep_unknown(line, fields, warn=build is None)
            return
        cls = r.RECORD_TYPES[number]
        if number in _VISIT_RECORDS and self.visit is None:
            self.note(ERROR, "outside_visit", line, number)
            return
        rp_number = None
        if number in _RP_KEYED:
            rp_number = self.read_rp_number(line, number, fields)
            if rp_number is None:
                return
            fields = fields[1:]
        values = fields[1:]
        if len(values) != len(cls.FIELDS):
            values = self.fit(cls, line, values)
        self.placers[cls](build(values, line, self.note), rp_number, line, fields)

    def keep_unknown(self, line, fields, warn: bool) -> None:
        if warn:
            self.note(WARNING, "unknown_record", line, number=fields[0])
        unknown = r.UnknownRecord(fields[0], tuple(fields[1:]), line.number)
        (self.visit.unknown if self.visit else self.document.unknown).append(unknown)

    def read_rp_number(self, line, number, fields) -> int | None:
        value = fields[1].strip() if len(fields) > 1 else ""
        if not _DIGITS.fullmatch(value):
            self.note(ERROR, "bad_rp", line, number, "RP番号", value=value)
            return None
        return int(value)

    def fit(self, cls, line, values: list[str]) -> list[str]:
        """One value per field: missing ones empty, extra ones cut off, each noted."""
        count = len(cls.FIELDS)
        if len(values) < count:
            self.note(WARNING, "missing_fields", line, cls.NUMBER, missing=count - len(values),
                      expected=count, found=len(values))
            return values + [""] * (count - len(values))
        self.note(WARNING, "extra_fields", line, cls.NUMBER, extra=len(values) - count,
                  values="，".join(values[count:]))
        return values[:count]

    # Where each record type goes (the nesting rules), one method each: a table lookup per
    # line instead of a chain of isinstance tests.
    PLACERS = {r.PatientRecord: "place_patient", r.PatientNote: "place_top_level",
               r.NotebookMemo: "place_top_level", r.FamilyPharmacist: "place_top_level",
               r.OtcDrug: "place_top_level", r.OtcIngredient: "place_ingredient",
               r.Visit: "place_visit", r.PatientEntry: "place_patient_entry",
               r.PrescribingDoctor: "place_doctor", r.DispensingInstitution: "place_institution",
               r.PrescribingInstitution: "place_institution", r.Pharmacist: "place_in_visit",
               r.VisitCaution: "place_in_visit", r.InstitutionNote: "place_in_visit",
               r.LeftoverNote: "place_in_visit", r.Remark: "place_in_visit",
               r.Drug: "place_drug", r.DrugSupplement: "place_drug_note",
               r.DrugCaution: "place_drug_note", r.Usage: "place_usage",
               r.UsageSupplement: "place_in_rp", r.PrescriptionCaution: "place_in_rp"}
    _TOP_LEVEL = {r.PatientNote: "notes", r.NotebookMemo: "memos",
                  r.FamilyPharmacist: "family_pharmacists", r.OtcDrug: "otc_drugs"}
    _IN_VISIT = {r.Pharmacist: "pharmacists", r.VisitCaution: "cautions",
                 r.InstitutionNote: "institution_notes", r.LeftoverNote: "leftover_notes",
                 r.Remark: "remarks", r.DispensingInstitution: "pharmacy",
                 r.PrescribingInstitution: "prescriber"}
    _IN_RP = {r.UsageSupplement: "usage_supplements", r.PrescriptionCaution: "cautions",
              r.DrugSupplement: "supplements", r.DrugCaution: "cautions"}

    def place_patient(self, record, rp_number, line, fields) -> None:
        if self.document.patient is None:
            self.document.patient = record
        else:
            self.note(WARNING, "duplicate", line, record.NUMBER)

    def place_top_level(self, record, rp_number, line, fields) -> None:
        getattr(self.document, self._TOP_LEVEL[type(record)]).append(record)

    def place_visit(self, record, rp_number, line, fields) -> None:
        self.document.visits.append(record)
        self.visit, self.doctor = record, None

    def place_patient_entry(self, record, rp_number, line, fields) -> None:
        (self.visit or self.document).patient_entries.append(record)

    def place_ingredient(self, record, rp_number, line, fields) -> None:
        drugs = self.document.otc_drugs
        owner = next((d for d in reversed(drugs) if d.serial == record.otc_serial), None)
        owner = owner or (drugs[-1] if drugs else None)
        if owner is None:
            self.note(WARNING, "orphan_ingredient", line, record.NUMBER)
            self.keep_unknown(line, fields, warn=False)
            return
        owner.ingredients.append(record)

    def place_doctor(self, record, rp_number, line, fields) -> None:
        self.visit.doctors.append(record)
        self.doctor = record

    def place_institution(self, record, rp_number, line, fields) -> None:
        attr = self._IN_VISIT[type(record)]
        if getattr(self.visit, attr) is None:
            setattr(self.visit, attr, record)
        else:
            self.note(WARNING, "duplicate", line, record.NUMBER)

    def place_in_visit(self, record, rp_number, line, fields) -> None:
        getattr(self.visit, self._IN_VISIT[type(record)]).append(record)

    def place_drug(self, record, rp_number, line, fields) -> None:
        self.rp(rp_number).drugs.append(record)

    def place_drug_note(self, record, rp_number, line, fields) -> None:
        rp = self.rp(rp_number)
        if not rp.drugs:
            self.note(WARNING, "orphan_drug_note", line, record.NUMBER)
            self.keep_unknown(line, [record.NUMBER, *fields], warn=False)
            return
        getattr(rp.drugs[-1], self._IN_RP[type(record)]).append(record)

    def place_usage(self, record, rp_number, line, fields) -> None:
        rp = self.rp(rp_number)
        if rp.usage is None:
            rp.usage = record
        else:
            self.note(WARNING, "duplicate", line, record.NUMBER)

    def place_in_rp(self, record, rp_number, line, fields) -> None:
        getattr(self.rp(rp_number), self._IN_RP[type(record)]).append(record)

    def rp(self, number: int) -> r.Rp:
        """The RP with this number under the current doctor, opened if new."""
        group = self.doctor.rps if self.doctor else self.visit.rps_without_doctor
        for rp in reversed(group):
            if rp.number == number:
                return rp
        rp = r.Rp(number)
        group.append(rp)
        return rp
