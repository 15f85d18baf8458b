from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Enum, ForeignKey, Index, LargeBinary, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, Read, TenantScoped
from portal.registry.names import KEY_SOURCES, search_key, search_keys


class ResidentStatus(enum.StrEnum):
    ACTIVE = "active"
    MOVED_OUT = "moved_out"
    DECEASED = "deceased"


class Sex(enum.StrEnum):
    """Codes as on the card: 1 male, 2 female, 9 not applicable."""
    MALE = "1"
    FEMALE = "2"
    NOT_APPLICABLE = "9"


class Household(TenantScoped, Base):
    """世帯."""

    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("municipality_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20))  # the city's household number
    head_name: Mapped[str] = mapped_column(String(65))  # 世帯主: a full name, 32 + 1 + 32
    address: Mapped[str] = mapped_column(String(200))
    members: Mapped[list["Resident"]] = relationship(back_populates="household")


def _folded(column: str):
    """A column default computing a search key from the row's own values, so every INSERT
    (an ORM flush, the importer's and the benchmarks' Core executemany) carries its keys."""
    return lambda context: search_key(context.get_current_parameters(), column)


# Codepoint order on PostgreSQL, so a prefix is one btree range whatever the cluster's
# collation (SQLite compares TEXT by codepoint already).
_KEY = String().with_variant(String(collation="C"), "postgresql")


def _key_indexes(column: str) -> tuple[Index, ...]:
    """A btree for prefixes and, on PostgreSQL, a pg_trgm GIN index for substrings (SQLite
    has the FTS5 table of migration 0410). Both lead with the city (btree_gin for the GIN),
    so a search reads only its own city's entries."""
    return (Index(f"ix_resident_{column}", "municipality_id", column),
            Index(f"ix_resident_{column}_trgm", "municipality_id", column, postgresql_using="gin",
                  postgresql_ops={column: "gin_trgm_ops"}).ddl_if(dialect="postgresql"))


class Resident(TenantScoped, Base):
    """住民. Holds neither the My Number nor the 住民票コード: the portal never needs them."""

    __tablename__ = "resident"
    __table_args__ = (UniqueConstraint("municipality_id", "number"),
                      *_key_indexes("name_key"), *_key_indexes("kana_key"),
                      Index("ix_resident_given_name_key", "municipality_id", "given_name_key"),
                      Index("ix_resident_given_kana_key", "municipality_id", "given_kana_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20))  # the city's internal resident number
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    family_name: Mapped[str] = mapped_column(String(32))
    given_name: Mapped[str] = mapped_column(String(32))
    family_name_kana: Mapped[str] = mapped_column(String(64))
    given_name_kana: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[date]
    sex: Mapped[Sex] = mapped_column(Enum(Sex, native_enum=False, length=1,
                                          values_callable=lambda e: [m.value for m in e]))
    address: Mapped[str] = mapped_column(String(200))
    relationship_to_head: Mapped[str] = mapped_column(String(16))  # 続柄
    status: Mapped[ResidentStatus] = mapped_column(
        Enum(ResidentStatus, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]),
        default=ResidentStatus.ACTIVE)
    move_out_filed: Mapped[bool] = mapped_column(default=False)  # 転出届 filed, not yet left
    # 支援措置 (DV, stalking…): nothing of this person may be disclosed outside the counter.
    support_block: Mapped[bool] = mapped_column(default=False)
    honseki: Mapped[str | None] = mapped_column(String(200))  # 本籍
    hittosha: Mapped[str | None] = mapped_column(String(64))  # 筆頭者
    # Search keys (`portal.registry.names.fold`): whole name and kana, and the given name
    # and kana alone, for staff search. Substring search uses the trigram indexes; a
    # query too short for trigrams matches the start of a key by these btree indexes.
    name_key: Mapped[str] = mapped_column(_KEY, default=_folded("name_key"))
    given_name_key: Mapped[str] = mapped_column(_KEY, default=_folded("given_name_key"))
    kana_key: Mapped[str] = mapped_column(_KEY, default=_folded("kana_key"))
    given_kana_key: Mapped[str] = mapped_column(_KEY, default=_folded("given_kana_key"))

    household: Mapped[Household | None] = relationship(back_populates="members")

    @property
    def name(self) -> str:
        return f"{self.family_name}\u3000{self.given_name}"

    @property
    def name_kana(self) -> str:
        return f"{self.family_name_kana}\u3000{self.given_name_kana}"


class ResidentRead(Read):
    """A resident row read for a page that only shows it (rows_of): the model's names."""
    name = Resident.name
    name_kana = Resident.name_kana


@event.listens_for(Resident, "before_update")
def _refold_keys(_mapper, _connection, person: Resident) -> None:
    """A corrected name or kana (ORM update) gets new search keys in the same UPDATE."""
    names = {field: getattr(person, field) for fields in KEY_SOURCES.values() for field in fields}
    for column, value in search_keys(names).items():
        if getattr(person, column) != value:
            setattr(person, column, value)


class GuardianLink(TenantScoped, Base):
    """A guardian (保護者) of a child, both residents of the same city."""

    __tablename__ = "guardian_link"
    __table_args__ = (UniqueConstraint("guardian_id", "child_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)


class SealRegistration(TenantScoped, Base):
    """印鑑登録."""

    __tablename__ = "seal_registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    registration_number: Mapped[str] = mapped_column(String(20))
    registered_on: Mapped[date]
    active: Mapped[bool] = mapped_column(default=True)
    seal_image: Mapped[bytes | None] = mapped_column(LargeBinary)


class TaxRecord(TenantScoped, Base):
    """One fiscal year's income and tax (所得・課税証明書), amounts in yen."""

    __tablename__ = "tax_record"
    __table_args__ = (UniqueConstraint("resident_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    fiscal_year: Mapped[int]
    total_income: Mapped[int]
    taxable_income: Mapped[int]
    municipal_tax: Mapped[int]
    prefectural_tax: Mapped[int]
