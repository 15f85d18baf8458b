"""Tables of the joint-cloud operation: cost lines and their stored basis, standalone
estimates for comparison, each city's configuration history and departures.

None of them holds personal data. The apportionment tables name cities by their code, not
by a foreign key: they are the group's financial records and stay when a city leaves, so
an old report can still be reproduced. The configuration history belongs to the city
(`municipality_id`) and leaves with it (exported first).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, TenantScoped
from portal.jointcloud.apportion import CostItem, Formula

CATEGORIES = ("build", "operation", "data_centre", "shared_change")


class CostLine(Base):
    """費目: one cost of one fiscal year (年度) shared by the members, with its formula."""

    __tablename__ = "cloud_cost_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(index=True)
    category: Mapped[str] = mapped_column(String(20))  # one of CATEGORIES
    label: Mapped[str] = mapped_column(String(100))
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    weight_equal: Mapped[int] = mapped_column(default=0)        # 均等割
    weight_population: Mapped[int] = mapped_column(default=0)   # 人口割
    weight_usage: Mapped[int] = mapped_column(default=0)        # 利用割
    usage_metric: Mapped[str] = mapped_column(String(80), default="*")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    @property
    def formula(self) -> Formula:
        return Formula(self.weight_equal, self.weight_population, self.weight_usage)

    def as_item(self) -> CostItem:
        return CostItem(self.fiscal_year, self.category, self.label, self.amount_yen,
                        self.formula, self.usage_metric)


class ApportionmentBasis(Base):
    """按分基礎: a member's population and usage for one fiscal year, stored when fixed so
    the report is reproducible however the live figures change later."""

    __tablename__ = "cloud_basis"
    __table_args__ = (UniqueConstraint("fiscal_year", "city_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(index=True)
    city_code: Mapped[str] = mapped_column(String(6))
    city_name: Mapped[str] = mapped_column(String(64))
    population: Mapped[int]
    usage: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # "service:metric" → n
    source: Mapped[str] = mapped_column(String(200), default="")  # e.g. 平成27年国勢調査
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class StandaloneEstimate(Base):
    """単独構築の見積り: what one city would have paid alone, to compare with its share."""

    __tablename__ = "cloud_standalone_estimate"
    __table_args__ = (UniqueConstraint("city_code", "category", "first_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(String(6))
    category: Mapped[str] = mapped_column(String(20))
    first_year: Mapped[int]
    last_year: Mapped[int]
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200), default="")


class ConfigChange(TenantScoped, Base):
    """設定変更履歴: who changed a city's configuration, when, and what (before/after)."""

    __tablename__ = "city_config_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(index=True)
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(200))  # every role, comma-joined
    source: Mapped[str] = mapped_column(String(20))  # web, import, cli, join
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    diff: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(200), default="")


class Departure(Base):
    """脱退記録: a city left the shared deployment; the signed receipt is kept here too."""

    __tablename__ = "cloud_departure"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    city_name: Mapped[str] = mapped_column(String(64))
    deleted_at: Mapped[datetime]
    receipt: Mapped[dict[str, Any]] = mapped_column(JSON)
