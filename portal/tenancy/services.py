"""Municipality codes and membership."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.tenancy.models import Municipality

_WEIGHTS = (6, 5, 4, 3, 2)


class InvalidMunicipalityCode(ValueError):
    """Not a 全国地方公共団体コード: six digits whose last is the check digit."""


def check_digit(first_five: str) -> int:
    """Check digit of a 全国地方公共団体コード: weights 6..2, mod 11, last digit of 11 - r."""
    remainder = sum(int(d) * w for d, w in zip(first_five, _WEIGHTS)) % 11
    return (11 - remainder) % 10


def validate_code(code: str) -> str:
    code = (code or "").strip()
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise InvalidMunicipalityCode(f"団体コードは6桁の数字です: {code!r}")
    if check_digit(code[:5]) != int(code[5]):
        raise InvalidMunicipalityCode(f"団体コードの検査数字が合いません: {code}")
    return code


def add_municipality(session: Session, code: str, name: str, **fields) -> Municipality:
    """Register a member city; the code must be valid and new."""
    code = validate_code(code)
    if session.scalar(select(Municipality).where(Municipality.code == code)):
        raise ValueError(f"団体コード {code} は登録済みです")
    fields.setdefault("settings", {"services": []})
    municipality = Municipality(code=code, name=name, **fields)
    session.add(municipality)
    session.flush()
    return municipality


def by_code(session: Session, code: str) -> Municipality | None:
    return session.scalar(select(Municipality).where(Municipality.code == code))
