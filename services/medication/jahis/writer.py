"""Writing JAHIS text: the inverse of the reader, and the 911 split for QR codes."""
from __future__ import annotations

import hashlib

from services.medication.jahis import records as r
from services.medication.jahis.compiled import FORMATTERS
from services.medication.jahis.text import clean_field

CRLF = "\r\n"
# A 911 line is at most "911," + 14-digit id + "," + 2 + "," + 2 digits + CRLF.
_CONTROL_RESERVE = 4 + 14 + 1 + 2 + 1 + 2 + 2


class UnencodableError(ValueError):
    """The text holds characters the chosen encoding (CP932) cannot represent."""


def write_text(document: r.Document) -> str:
    """The document as JAHIS text, CR LF line ends, dates in YYYYMMDD."""
    return "".join(line + CRLF for line in document_lines(document))


def write(document: r.Document, encoding: str = "cp932") -> bytes:
    """The document as bytes (CP932 by default, as pharmacies' readers expect)."""
    try:
        return write_text(document).encode(encoding)
    except UnicodeEncodeError as exc:
        raise UnencodableError(exc.object[exc.start:exc.end]) from exc


def document_lines(doc: r.Document) -> list[str]:
    lines = head_lines(doc)
    for visit in doc.visits:
        lines += visit_lines(visit)
    return lines


def head_lines(doc: r.Document) -> list[str]:
    """The header and every record outside a visit: the document's lines before its
    visits' (`document_lines` is these, then each visit's `visit_lines`)."""
    lines = [f"JAHISTC{doc.version},{doc.output_kind}"]
    if doc.patient is not None:
        lines.append(record_line(doc.patient))
    lines += [record_line(note) for note in doc.notes]
    for otc in doc.otc_drugs:
        lines.append(record_line(otc))
        lines += [record_line(i) for i in otc.ingredients]
    lines += [record_line(m) for m in doc.memos]
    lines += [record_line(p) for p in doc.family_pharmacists]
    lines += [record_line(e) for e in doc.patient_entries]
    lines += [unknown_line(u) for u in doc.unknown]
    return lines


def visit_lines(visit: r.Visit) -> list[str]:
    lines = [record_line(visit)]
    if visit.pharmacy is not None:
        lines.append(record_line(visit.pharmacy))
    lines += [record_line(p) for p in visit.pharmacists]
    if visit.prescriber is not None:
        lines.append(record_line(visit.prescriber))
    for rp in visit.rps_without_doctor:
        lines += rp_lines(rp)
    for doctor in visit.doctors:
        lines.append(record_line(doctor))
        for rp in doctor.rps:
            lines += rp_lines(rp)
    for group in (visit.cautions, visit.institution_notes, visit.leftover_notes,
                  visit.remarks, visit.patient_entries):
        lines += [record_line(item) for item in group]
    lines += [unknown_line(u) for u in visit.unknown]
    return lines


def rp_lines(rp: r.Rp) -> list[str]:
    lines = []
    for drug in rp.drugs:
        lines.append(record_line(drug, rp.number))
        lines += [record_line(s, rp.number) for s in drug.supplements]
        lines += [record_line(c, rp.number) for c in drug.cautions]
    if rp.usage is not None:
        lines.append(record_line(rp.usage, rp.number))
    lines += [record_line(s, rp.number) for s in rp.usage_supplements]
    lines += [record_line(c, rp.number) for c in rp.cautions]
    return lines


def record_line(record, rp_number: int | None = None) -> str:
    """One record as a line: number, RP number where the record has one, then fields."""
    head = record.NUMBER if rp_number is None else f"{record.NUMBER},{rp_number}"
    return FORMATTERS[type(record)](record, head)


def unknown_line(record: r.UnknownRecord) -> str:
    return ",".join([clean_field(record.number), *(clean_field(f) for f in record.fields)])


def split_for_qr(document: r.Document, max_bytes: int = 1000, encoding: str = "cp932",
                 data_id: str | None = None) -> list[bytes]:
    """The document as one or more parts of at most `max_bytes` each. A document that fits
    is one part with no 911 line; a larger one is cut at record boundaries, every part
    starting with the header and ending with `911,<id>,<parts>,<n>` (JAHIS 分割)."""
    whole = write(document, encoding)
    if len(whole) <= max_bytes:
        return [whole]
    lines = [(line + CRLF).encode(encoding) for line in document_lines(document)]
    header, body = lines[0], lines[1:]
    room = max_bytes - len(header) - _CONTROL_RESERVE
    if room <= 0 or any(len(line) > room for line in body):
        raise ValueError(f"a record does not fit in a QR part of {max_bytes} bytes")
    chunks = _pack(body, room)
    data_id = data_id or _data_id(whole)
    return [header + b"".join(chunk) + f"911,{data_id},{len(chunks)},{n}{CRLF}".encode("ascii")
            for n, chunk in enumerate(chunks, start=1)]


def _pack(lines: list[bytes], room: int) -> list[list[bytes]]:
    chunks: list[list[bytes]] = [[]]
    used = 0
    for line in lines:
        if used + len(line) > room:
            chunks.append([])
            used = 0
        chunks[-1].append(line)
        used += len(line)
    return chunks


def _data_id(content: bytes) -> str:
    """A 14-digit id derived from the content, so the same document always splits alike."""
    return f"{int(hashlib.sha256(content).hexdigest(), 16) % 10**14:014d}"
