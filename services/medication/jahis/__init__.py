"""JAHIS 電子版お薬手帳データフォーマット (versions JAHISTC01–08): reader and writer.

Pure Python — no Flask, no database — so it can be tested and benchmarked on its own::

    result = parse(qr_bytes)            # ParseResult: document + diagnostics
    if result.ok: store(result.document)
    text = write_text(result.document)  # parse(write(doc)).document == doc
"""
from services.medication.jahis.diagnostics import ERROR, WARNING, Diagnostic
from services.medication.jahis.reader import ParseResult, parse, parse_files, parse_fragments
from services.medication.jahis.records import *  # noqa: F401,F403  (the record types)
from services.medication.jahis.records import Document
from services.medication.jahis.text import detect_encoding, parse_date
from services.medication.jahis.writer import (UnencodableError, split_for_qr, write,
                                              write_text)

__all__ = ["Diagnostic", "Document", "ERROR", "ParseResult", "UnencodableError", "WARNING",
           "detect_encoding", "parse", "parse_date", "parse_files", "parse_fragments", "split_for_qr",
           "write", "write_text"]
