"""Each record type's field specs (`FIELDS`) compiled into one Python function that reads
a line's values into the record, so reading a line costs one call, not one per field.

The generated function does what the field kinds say — strip, check digits or decimals,
convert dates, note an empty required field — with the same diagnostics as the specs
describe; only its shape is generated, never anything from the input."""
from __future__ import annotations

import dataclasses
import re

from services.medication.jahis import records as r
from services.medication.jahis.diagnostics import ERROR, WARNING
from services.medication.jahis.text import DateFormatError, clean_field, format_date, parse_date

_DECIMAL = re.compile(r"\d+(\.\d+)?")
# Dates repeat (every record of a visit, every visit of a day): parse each text once.
_DATE_CACHE: dict[str, tuple | None] = {}
_DATE_CACHE_MAX = 50_000


def read_date(value: str, line, note, number: str, label: str, required: bool):
    """The date in `value` (YYYYMMDD or GYYMMDD), or None with a diagnostic."""
    parsed = _DATE_CACHE.get(value, False)
    if parsed is False:
        try:
            parsed = parse_date(value)
        except DateFormatError:
            parsed = None
        if len(_DATE_CACHE) < _DATE_CACHE_MAX:
            _DATE_CACHE[value] = parsed
    if parsed is None:
        # A required date makes the record meaningless; an optional one is dropped,
        # and the diagnostic says so: the page names the value that was not kept.
        if required:
            note(ERROR, "bad_date", line, number, label, value=value)
        else:
            note(WARNING, "date_not_kept", line, number, label, value=value)
        return None
    if parsed[1]:
        note(WARNING, "before_era", line, number, label, value=value)
    return parsed[0]


def is_decimal(value: str) -> bool:
    return value.isdecimal() or _DECIMAL.fullmatch(value) is not None


def compile_builder(cls):
    """`build(values, line, note) -> record` for a record class; `values` holds exactly
    one string per spec (the reader pads or cuts them first, with its own diagnostic)."""
    names = [f.name for f in dataclasses.fields(cls)]
    positional = names[:len(cls.FIELDS)] == [spec.attr for spec in cls.FIELDS]
    body, args = [], []
    for index, spec in enumerate(cls.FIELDS):
        body += _field_lines(index, spec)
        args.append(f"a{index}" if positional else f"{spec.attr}=a{index}")
    source = ("def build(v, line, note):\n" + "".join(f"    {s}\n" for s in body)
              + f"    return cls({', '.join(args)})\n")
    namespace = {"cls": cls, "ERROR": ERROR, "WARNING": WARNING, "NUMBER": cls.NUMBER,
                 "read_date": read_date, "is_decimal": is_decimal,
                 **{f"L{i}": spec.label for i, spec in enumerate(cls.FIELDS)}}
    exec(compile(source, f"<jahis record {cls.NUMBER}>", "exec"), namespace)  # noqa: S102
    return namespace["build"]


def _field_lines(index: int, spec: r.FieldSpec) -> list[str]:
    a, label = f"a{index}", f"L{index}"
    empty = f"note(ERROR, 'required_empty', line, NUMBER, {label})"
    if spec.kind == r.TEXT:  # text stays as written, spaces included
        return [f"{a} = v[{index}]"] + ([f"if not {a}.strip(): {empty}"] if spec.required else [])
    lines = [f"{a} = v[{index}].strip()"]
    if spec.required:
        lines.append(f"if not {a}: {empty}")
    if spec.kind == r.DATE:
        lines.append(f"{a} = read_date({a}, line, note, NUMBER, {label}, {spec.required}) "
                     f"if {a} else None")
    elif spec.kind == r.DIGITS:
        lines.append(f"if {a} and not {a}.isdecimal(): "
                     f"note(WARNING, 'not_digits', line, NUMBER, {label}, value={a})")
    elif spec.kind == r.DECIMAL:
        lines.append(f"if {a} and not is_decimal({a}): "
                     f"note(WARNING, 'not_decimal', line, NUMBER, {label}, value={a})")
    return lines


BUILDERS = {number: compile_builder(cls) for number, cls in r.RECORD_TYPES.items()}


def compile_formatter(cls):
    """`format(record, head) -> line` for a record class, `head` being the record number
    and, for RP-keyed records, the RP number (the writer's inverse of `compile_builder`)."""
    parts = [f"{'format_date' if spec.kind == r.DATE else 'clean_field'}(record.{spec.attr})"
             for spec in cls.FIELDS]
    source = f"def format(record, head):\n    return ','.join((head, {', '.join(parts)}))\n"
    namespace = {"format_date": format_date, "clean_field": clean_field}
    exec(compile(source, f"<jahis writer {cls.NUMBER}>", "exec"), namespace)  # noqa: S102
    return namespace["format"]


FORMATTERS = {cls: compile_formatter(cls) for cls in r.RECORD_TYPES.values()}
