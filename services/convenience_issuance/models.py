"""Tables of the convenience_issuance service; every table name starts with `convenience_issuance_`.

An issuance request (交付請求) walks a state machine:

    started → quoted → paid → issued → printed | failed
    started | quoted → expired      (abandoned at the terminal)

"Released" is not a state: it is the moment (`released_at`) the request's bearer token stops
working and the generated PDF is dropped, which happens on every end state.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.api import Base, TenantScoped


class RequestState(enum.StrEnum):
    STARTED = "started"
    QUOTED = "quoted"
    PAID = "paid"
    ISSUED = "issued"
    PRINTED = "printed"
    FAILED = "failed"
    EXPIRED = "expired"


OPEN_STATES = (RequestState.STARTED, RequestState.QUOTED)
END_STATES = (RequestState.PRINTED, RequestState.FAILED, RequestState.EXPIRED)


def _enum(cls):
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class IssuanceRequest(TenantScoped, Base):
    """交付請求: one resident's visit to one terminal, authenticated by the card once.
    The terminal holds a bearer token for it; only its SHA-256 is stored."""

    __tablename__ = "convenience_issuance_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    terminal_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[RequestState] = mapped_column(_enum(RequestState), default=RequestState.STARTED)
    certificate_type: Mapped[str | None] = mapped_column(String(24))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fee: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    released_at: Mapped[datetime | None]
    outcome_detail: Mapped[str | None] = mapped_column(String(200))
    # The signed PDF, kept only until the terminal reports printed/failed or the request ends.
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)


class Payment(TenantScoped, Base):
    """手数料の支払い. One per request (unique request_id) and one per idempotency key: a
    retried or concurrent confirmation finds the row instead of charging again."""

    __tablename__ = "convenience_issuance_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("convenience_issuance_request.id"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of the confirmation's body (without the key): the key stands for this request
    # only, and the same key with another body is refused instead of answered as a repeat.
    request_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    amount: Mapped[int]
    paid_at: Mapped[datetime]
    terminal_id: Mapped[str] = mapped_column(String(64))


class IssuedCertificate(TenantScoped, Base):
    """交付済み証明書: what the public verification page checks a code against."""

    __tablename__ = "convenience_issuance_certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("convenience_issuance_request.id"), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    issuance_number: Mapped[str] = mapped_column(String(32), unique=True)   # 交付番号
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)  # 確認コード
    certificate_type: Mapped[str] = mapped_column(String(24))
    fee: Mapped[int]
    holder_masked_name: Mapped[str] = mapped_column(String(80))
    issued_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    revoke_reason: Mapped[str | None] = mapped_column(String(200))


class IssuanceLogEntry(TenantScoped, Base):
    """交付ログ: every step and every refusal with its internal reason (staff only)."""

    __tablename__ = "convenience_issuance_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    event: Mapped[str] = mapped_column(String(24))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("convenience_issuance_request.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), index=True)
    certificate_type: Mapped[str | None] = mapped_column(String(24))
    fee: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(String(40))
    terminal_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(String(200), default="")
