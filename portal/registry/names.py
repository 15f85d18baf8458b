"""Names and kana folded for search (検索キー), the same way for what the registry holds and
what staff type, so the two meet however either was written.

Folding: NFKC (half-width kana ｼｹﾝ → シケン, full-width letters and digits → ASCII),
旧字体 and common variants → the 常用 form (髙 → 高, 﨑 → 崎, 邊 → 辺, the `joyokanji`
package's tables), hiragana → katakana, case folded, and spaces and 「・」 dropped, so
「元親　二世」 and 「元親二世」 are one key. Pure functions: no database, no Flask."""
from __future__ import annotations

import re
import unicodedata
from typing import Mapping

import joyokanji

# ぁ..ゖ and ゝゞ sit exactly 0x60 below their katakana; ゟ (a ligature) has none.
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in (*range(0x3041, 0x3097), 0x309D, 0x309E)}
_SEPARATORS = re.compile(r"[\s・]+")


def fold(text: str | None) -> str:
    """The search key of one name, kana or query."""
    text = unicodedata.normalize("NFKC", text or "")
    text = joyokanji.convert(text, variants=True)
    text = text.translate(_HIRAGANA_TO_KATAKANA).casefold()
    return _SEPARATORS.sub("", text)


# Each search column of the resident and the columns it is folded from, in order.
KEY_SOURCES: dict[str, tuple[str, ...]] = {
    "name_key": ("family_name", "given_name"),
    "given_name_key": ("given_name",),
    "kana_key": ("family_name_kana", "given_name_kana"),
    "given_kana_key": ("given_name_kana",),
}


def search_key(row: Mapping[str, str | None], column: str) -> str:
    """One search column of a resident row (column name → value)."""
    return "".join(fold(row.get(name)) for name in KEY_SOURCES[column])


def search_keys(row: Mapping[str, str | None]) -> dict[str, str]:
    """Every search column of a resident row: what a write path that bypasses the model's
    column defaults (a Core UPDATE, a migration's backfill) must set."""
    return {column: search_key(row, column) for column in KEY_SOURCES}
