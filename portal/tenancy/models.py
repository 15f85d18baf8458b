from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, Read


class Municipality(Base):
    """A member city of the joint cloud (地方公共団体), identified by its 6-digit code."""

    __tablename__ = "municipality"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64), default="")
    prefecture: Mapped[str] = mapped_column(String(16), default="")
    population: Mapped[int] = mapped_column(default=0)
    # Everything a city may differ in is configuration, never a code branch.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    def name_in(self, locale: str) -> str:
        """The city's name on a page in `locale`: the English name on English pages when one
        is registered, the Japanese name otherwise."""
        return self.name_en if locale == "en" and self.name_en else self.name

    @property
    def enabled_services(self) -> list[str]:
        return list((self.settings or {}).get("services", []))


class CityRead(Read):
    """A municipality row read with the session check, for the request's pages (services,
    menu, branding): the model's words, nothing written through it."""
    name_in = Municipality.name_in
    enabled_services = Municipality.enabled_services
