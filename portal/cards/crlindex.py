"""Revoked serials held compactly: a sorted table of fixed-width two's-complement serials,
read straight out of the CRL's DER and searched by bisection.

A million entries take ~19 MiB as one bytes object (a frozenset of Python ints took
~114 MiB). Written to an index file and memory-mapped, the table is one copy in the page
cache for every worker on the machine.

The CRL is first parsed and its signature checked by `cryptography`; only then are the
serials copied out here. cryptography would hand them over one Python object at a time
(seconds for a million), so this reads the already validated DER itself: entries of the
same shape (the usual case) form runs of fixed-size records whose serial bytes are copied
column by column with extended slices, in C, a cache-sized block of rows at a time.
Each row is a guard byte 0x00 and the serial sign-extended to the widest one listed."""
from __future__ import annotations

import bisect
import json
import mmap
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAGIC = b"MADOGUCHI-CRL-INDEX-1\n"
_FIRST_RUN = 16          # records tried at once; grows while the shape holds


def _header(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, offset of the contents, length of the contents) of the DER TLV at `pos`."""
    tag, first = der[pos], der[pos + 1]
    if first < 0x80:
        return tag, pos + 2, first
    size = first & 0x7F
    return tag, pos + 2 + size, int.from_bytes(der[pos + 2:pos + 2 + size], "big")


def tbs_span(der: bytes) -> tuple[int, int]:
    """Start and end of the signed part (tbsCertList) of a CRL, exactly as received: what
    the signature covers, without re-encoding it (cryptography's tbs_certlist_bytes
    re-encodes, which takes seconds for a million entries)."""
    _tag, outer, _length = _header(der, 0)
    _tag, start, length = _header(der, outer)
    return outer, start + length


def revoked_span(der: bytes) -> tuple[int, int]:
    """Start and end of the contents of revokedCertificates (empty span when absent)."""
    _tag, outer, _length = _header(der, 0)
    _tag, pos, length = _header(der, outer)
    end = pos + length
    tag, body, length = _header(der, pos)
    if tag == 0x02:                      # version
        pos = body + length
    for _field in ("signature", "issuer", "thisUpdate"):
        _tag, body, length = _header(der, pos)
        pos = body + length
    tag, body, length = _header(der, pos)
    if tag in (0x17, 0x18):              # nextUpdate
        pos = body + length
        if pos >= end:
            return pos, pos
        tag, body, length = _header(der, pos)
    if tag != 0x30:
        return pos, pos
    return body, body + length


@dataclass(frozen=True)
class _Run:
    """Consecutive entries of one shape: fixed-size records, the serial at a fixed offset."""
    start: int          # offset of the first record in the DER
    serial_at: int      # offset of the serial's content octets in a record
    size: int           # bytes per record
    width: int          # content octets of each serial
    count: int


def serial_runs(der: bytes, start: int, end: int) -> list[_Run]:
    """The revoked entries between `start` and `end` as runs of same-shape records."""
    runs: list[_Run] = []
    most = _FIRST_RUN
    pos = start
    while pos < end:
        _tag, body, length = _header(der, pos)
        size = body - pos + length               # the whole entry
        serial_at = body + 2 - pos               # after 02 SS
        count = _same_shape(der, pos, serial_at, size, min(most, (end - pos) // size))
        if runs and (runs[-1].serial_at, runs[-1].size) == (serial_at, size) \
                and runs[-1].start + runs[-1].count * size == pos:
            last = runs.pop()
            runs.append(_Run(last.start, serial_at, size, der[body + 1], last.count + count))
        else:
            runs.append(_Run(pos, serial_at, size, der[body + 1], count))
        most = most * 4 if count >= most else _FIRST_RUN
        pos += count * size
    return runs


def _same_shape(der: bytes, pos: int, serial_at: int, size: int, most: int) -> int:
    """How many records from `pos` start with the same header bytes (entry header, 02 SS).
    Each such record has the same length, so the next one starts `size` bytes on: by
    induction the first `n` matching records are exactly the next `n` entries."""
    count = most
    for offset in range(serial_at):
        column = der[pos + offset:pos + offset + count * size:size]
        count = len(column) - len(column.lstrip(der[pos + offset:pos + offset + 1]))
    return max(count, 1)


_BLOCK_ROWS = 2048   # rows copied column by column while their bytes are in the CPU cache


def serial_table(der: bytes, runs: list[_Run]) -> tuple[int, bytes]:
    """(row width, rows): each serial sign-extended to the widest one, after a guard byte
    0x00 that lets `is_sorted` compare every pair of rows in one big-integer subtraction."""
    widest = max((run.width for run in runs), default=1)
    row = widest + 1
    table = bytearray(sum(run.count for run in runs) * row)
    at = 0
    for run in runs:
        pad = row - run.width
        for first in range(0, run.count, _BLOCK_ROWS):
            rows = min(_BLOCK_ROWS, run.count - first)
            source = run.start + first * run.size + run.serial_at
            target = at + first * row + pad
            for column in range(run.width):
                table[target + column:target + column + (rows - 1) * row + 1:row] = \
                    der[source + column:source + column + (rows - 1) * run.size + 1:run.size]
        _sign_extend(table, at, run, row)
        at += run.count * row
    return row, bytes(table)


def _sign_extend(table: bytearray, at: int, run: _Run, row: int) -> None:
    """Negative serials (not RFC 5280, but parseable) get 0xFF padding, so that equal
    numbers have equal rows whatever their encoded width."""
    firsts = table[at + row - run.width:at + run.count * row:row]
    if run.width == row - 1 or max(firsts, default=0) < 0x80:   # no padding, or none negative
        return
    for index, first in enumerate(firsts):
        if first >= 0x80:
            start = at + index * row
            table[start + 1:start + row - run.width] = b"\xff" * (row - 1 - run.width)


def is_sorted(table: bytes, row: int) -> bool:
    """Rows in non-decreasing order? Row i+1 minus row i, for all i at once: the difference
    of the table without its first row and the table without its last row, as integers.
    Where a row is smaller than the one before, that row of the difference wraps round
    and its guard byte becomes 0xFF (or the whole difference is negative); otherwise no
    row borrows from the next and every guard byte stays 0x00."""
    count = len(table) // row
    if count < 2:
        return True
    later = int.from_bytes(table[row:], "big")
    earlier = int.from_bytes(table[:-row], "big")
    difference = later - earlier
    if difference < 0:
        return False
    guards = difference.to_bytes(len(table) - row, "big")[0::row]
    return guards.count(0) == count - 1


def sorted_table(der: bytes) -> tuple[int, bytes]:
    """The revoked serials of a CRL as (row width, sorted rows)."""
    row, table = serial_table(der, serial_runs(der, *revoked_span(der)))
    if not is_sorted(table, row):
        rows = re.findall(b".{%d}" % row, table, re.DOTALL)
        rows.sort()
        table = b"".join(rows)
    return row, table


class SerialTable:
    """Membership of an integer serial in a sorted fixed-width table (bytes or mmap).

    A short list of every BLOCK-th row (built once, a few thousand entries) is bisected in
    C; the one block it points to is searched with bytes.find, also in C."""

    BLOCK = 512

    def __init__(self, buffer: Any, width: int, offset: int = 0) -> None:
        self._buffer, self.width, self._offset = buffer, width, offset
        self._count = (len(buffer) - offset) // width
        step = self.BLOCK * width
        self._fences = [buffer[at:at + width] for at in range(offset, offset + self._count * width, step)]

    def __len__(self) -> int:
        return self._count

    def __contains__(self, serial: int) -> bool:
        try:
            key = b"\0" + serial.to_bytes(self.width - 1, "big", signed=True)   # guard byte
        except OverflowError:       # longer than any serial listed
            return False
        block = bisect.bisect_right(self._fences, key) - 1
        if block < 0:
            return False
        start = self._offset + block * self.BLOCK * self.width
        end = min(start + self.BLOCK * self.width, self._offset + self._count * self.width)
        at = self._buffer.find(key, start, end)           # in place: no copy of the block
        while at >= 0 and (at - self._offset) % self.width:   # across two rows: no match
            at = self._buffer.find(key, at + 1, end)
        return at >= 0


@dataclass(frozen=True)
class IndexFile:
    """An index file as mapped by one process: its identity on disk, metadata and table."""
    stamp: tuple[int, int]           # (inode, mtime_ns): a new file replaces, never rewrites
    meta: dict
    serials: SerialTable


def write_index(path: Path, meta: dict, width: int, table: bytes) -> None:
    """Atomically: readers see the old file or the new one, never half of one."""
    head = json.dumps({**meta, "width": width}, sort_keys=True).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".crl-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + len(head).to_bytes(4, "big") + head)
            out.write(table)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_index(path: Path) -> IndexFile:
    """Map an index file (no copy: pages are shared with every process mapping it)."""
    with open(path, "rb") as source:
        info = os.fstat(source.fileno())
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    if mapped[:len(MAGIC)] != MAGIC:
        raise ValueError(f"{path} is not a CRL index")
    at = len(MAGIC)
    size = int.from_bytes(mapped[at:at + 4], "big")
    meta = json.loads(mapped[at + 4:at + 4 + size])
    return IndexFile((info.st_ino, info.st_mtime_ns), meta,
                     SerialTable(mapped, meta["width"], at + 4 + size))


def read_meta(path: Path) -> dict:
    """Only the metadata (the refresher compares sources without mapping tables)."""
    with open(path, "rb") as source:
        start = source.read(len(MAGIC) + 4)
        if start[:len(MAGIC)] != MAGIC:
            raise ValueError(f"{path} is not a CRL index")
        return json.loads(source.read(int.from_bytes(start[len(MAGIC):], "big")))
