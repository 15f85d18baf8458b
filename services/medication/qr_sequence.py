"""The structured-append header of a QR code (ISO/IEC 18004 §7.4.3), read from the module
matrix zxing-cpp sampled.

zxing-cpp reads a structured-append symbol but its Python binding does not hand over the
sequence number, so a photo order would have to stand in for it. The header is the first
20 bits of the symbol's bit stream — mode 0011, the symbol's index (4 bits), the count
minus one (4 bits) and a parity byte shared by the sequence — so it is read here from the
matrix zxing-cpp returns (`Barcode.to_image`), using segno's tables for where the function
patterns lie and how codewords are split into blocks (the layout the encoder also uses)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from segno import consts, encoder

_SA_MODE = 0b0011
# ISO/IEC 18004 Table 10: data mask conditions, i = row, j = column.
_MASKS = (lambda i, j: (i + j) % 2 == 0, lambda i, j: i % 2 == 0, lambda i, j: j % 3 == 0,
          lambda i, j: (i + j) % 3 == 0, lambda i, j: (i // 2 + j // 3) % 2 == 0,
          lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
          lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
          lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0)


@dataclass(frozen=True, order=True)
class Sequence:
    """Where one symbol stands in a structured-append sequence: `parity` identifies the
    sequence, `index` is 0-based, `count` the number of symbols."""
    parity: int
    index: int
    count: int


def read_header(rows: list[list[int]], version: int, ec_level: str,
                mask: int) -> Sequence | None:
    """The structured-append header of the symbol whose dark modules are 1 in `rows`
    (row 0 at the top), or None when the symbol does not start with one."""
    size = len(rows)
    if size != 17 + 4 * version or not 0 <= mask < 8 or ec_level not in consts.ERROR_MAPPING:
        return None
    blocks = sum(ec.num_blocks for ec in consts.ECC[version][consts.ERROR_MAPPING[ec_level]])
    places = _data_modules(version)
    bits = []
    # The interleaved stream takes one codeword of each block in turn: the first block's
    # codewords 0, 1 and 2 (the header's 20 bits) are codewords 0, b and 2b of the stream.
    for codeword in (0, blocks, 2 * blocks):
        for i, j in places[codeword * 8:codeword * 8 + 8]:
            bits.append(rows[i][j] ^ _MASKS[mask](i, j))
    value = int("".join(map(str, bits)), 2) if len(bits) == 24 else 0
    if value >> 20 != _SA_MODE:
        return None
    return Sequence(parity=(value >> 4) & 0xFF, index=(value >> 16) & 0xF,
                    count=((value >> 12) & 0xF) + 1)


@lru_cache(maxsize=40)
def _data_modules(version: int) -> tuple[tuple[int, int], ...]:
    """The (row, column) of every data module of a symbol of this version, in the order
    codeword bits are placed (two-module columns, up and down, right to left)."""
    size = 17 + 4 * version
    matrix = encoder.make_matrix(size, size, reserve_regions=True)
    encoder.add_finder_patterns(matrix, size, size)
    encoder.add_alignment_patterns(matrix, size, size)
    if version >= 7:
        encoder.add_version_info(matrix, version)
    order = []
    upwards = True
    column = size - 1
    while column > 0:
        if column == 6:  # the vertical timing pattern takes a whole column
            column -= 1
        rows = range(size - 1, -1, -1) if upwards else range(size)
        for i in rows:
            for j in (column, column - 1):
                if matrix[i][j] == 0x2:
                    order.append((i, j))
        upwards = not upwards
        column -= 2
    return tuple(order)
