"""The issuance request's life (交付請求): start → quote → pay → issue → print/fail,
expiry and release, the issuance log and the daily reconciliation (日次照合).

Functions take a SQLAlchemy session already scoped to the municipality and `now` as a UTC
naive datetime; they never commit (the caller's transaction is the unit of work) and no
Flask is imported here.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.api import (Resident, ResidentStatus, SealRegistration, TaxRecord, record_usage,
                        scoped)
from services.convenience_issuance.models import (END_STATES, OPEN_STATES, IssuanceLogEntry,
                                                  IssuanceRequest, IssuedCertificate, Payment,
                                                  RequestState)
from services.convenience_issuance.services import (JST, Catalogue, Holdings, IssuanceRefused,
                                                    Person, check_eligibility,
                                                    check_open, mask_name, person_refusal,
                                                    to_jst)

SERVICE = "convenience_issuance"
REQUEST_LIFETIME = timedelta(minutes=10)
# Unambiguous characters for a code people may type from paper (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class RequestProblem(Exception):
    """A step asked of a request in the wrong state (the terminal's mistake, not a refusal)."""
    status = 409
    message = "この操作はできません。最初からやり直してください。"

    @property
    def code(self) -> str:
        return type(self).__name__


class RequestExpired(RequestProblem):
    status = 410
    message = "時間切れのため、この請求は終了しました。最初からやり直してください。"


class WrongState(RequestProblem):
    message = "この請求ではその操作はできません。"


class AlreadyPaid(RequestProblem):
    message = "この請求はすでに支払い済みです。"


class IdempotencyKeyReused(RequestProblem):
    message = "この支払い番号は別の請求で使われています。"


class IdempotencyKeyMismatch(RequestProblem):
    message = "この支払い番号は別の内容の支払いで使われています。新しい支払い番号でやり直してください。"


class AmountMismatch(RequestProblem):
    """The amount is well-formed but not this request's fee: a conflict with its state."""
    message = "支払い金額が手数料と一致しません。"


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_verification_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def normalise_code(text: str) -> str:
    """What a person typed (spaces, lower case, no dashes) → the stored form."""
    raw = "".join(ch for ch in (text or "").upper() if ch.isalnum())[:16]
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


# -- log -----------------------------------------------------------------------------------

def log_event(db: Session, event: str, now: datetime, *, request: IssuanceRequest | None = None,
              resident_id: int | None = None, reason: str | None = None,
              terminal_id: str = "", detail: str = "", fee: int | None = None) -> None:
    """Append to the issuance log (交付ログ); refusals carry the internal reason."""
    db.add(IssuanceLogEntry(
        occurred_at=now, event=event, request_id=request.id if request else None,
        resident_id=resident_id or (request.resident_id if request else None),
        certificate_type=request.certificate_type if request else None,
        fee=fee, reason=reason, terminal_id=terminal_id or (request.terminal_id if request else ""),
        detail=detail[:200]))


# -- facts from the registry ---------------------------------------------------------------

def as_person(resident: Resident) -> Person:
    return Person(id=resident.id, birth_date=resident.birth_date,
                  active=resident.status == ResidentStatus.ACTIVE,
                  move_out_filed=resident.move_out_filed, support_block=resident.support_block)


def household_of(db: Session, resident: Resident) -> list[Resident]:
    """Members registered in the holder's household (the holder included)."""
    if resident.household_id is None:
        return [resident]
    return list(db.scalars(scoped(Resident, Resident.household_id == resident.household_id)
                           .order_by(Resident.id)).all())


def holdings_of(db: Session, resident_id: int) -> Holdings:
    seal = db.scalar(scoped(SealRegistration, SealRegistration.resident_id == resident_id,
                            SealRegistration.active.is_(True)).limit(1))
    years = db.scalars(select(TaxRecord.fiscal_year).where(TaxRecord.resident_id == resident_id)).all()
    return Holdings(has_active_seal=seal is not None, tax_years=frozenset(years))


# -- steps ---------------------------------------------------------------------------------

def start_request(db: Session, catalogue: Catalogue, resident: Resident, terminal_id: str,
                  now: datetime) -> tuple[IssuanceRequest, str]:
    """Open a request for a card holder; returns it and the terminal's bearer token.
    Raises `IssuanceRefused` when the store channel is closed or the holder may not use it."""
    check_open(catalogue, now)
    members = household_of(db, resident)
    refusal = person_refusal(as_person(resident), [as_person(m) for m in members], to_jst(now).date())
    if refusal:
        raise IssuanceRefused(refusal)
    token = secrets.token_urlsafe(32)
    request = IssuanceRequest(resident_id=resident.id, token_hash=hash_token(token),
                              terminal_id=terminal_id, state=RequestState.STARTED, options={},
                              created_at=now, updated_at=now, expires_at=now + REQUEST_LIFETIME)
    db.add(request)
    db.flush()
    log_event(db, "started", now, request=request)
    return request, token


def ensure_alive(db: Session, request: IssuanceRequest, now: datetime) -> None:
    """Expire an abandoned request on touch, then refuse; an ended one is refused too."""
    if request.released_at is not None or request.state in END_STATES:
        raise RequestExpired(request.state.value)
    if request.expires_at <= now:
        release(db, request, now, RequestState.EXPIRED if request.state in OPEN_STATES
                else request.state, "expired")
        raise RequestExpired("expired")


def quote(db: Session, catalogue: Catalogue, request: IssuanceRequest, certificate_type: str,
          options: dict[str, Any], now: datetime) -> IssuanceRequest:
    """Choose type and options and fix the fee (見積). Re-choosing before payment is fine."""
    ensure_alive(db, request, now)
    if request.state not in OPEN_STATES:
        raise WrongState(request.state.value)
    check_open(catalogue, now)
    resident = db.get(Resident, request.resident_id)
    members = household_of(db, resident)
    clean = check_eligibility(catalogue, certificate_type, options, as_person(resident),
                              [as_person(m) for m in members], holdings_of(db, resident.id),
                              to_jst(now).date())
    offer = catalogue.offer(certificate_type)
    request.certificate_type, request.options, request.fee = offer.type.value, clean, offer.fee
    request.state, request.updated_at = RequestState.QUOTED, now
    log_event(db, "quoted", now, request=request, fee=offer.fee)
    return request


@dataclass(frozen=True)
class PaymentOutcome:
    certificate: IssuedCertificate
    payment: Payment
    replayed: bool  # True when this confirmation repeated an earlier one


def request_hash(body: dict) -> str:
    """SHA-256 of a payment confirmation as the terminal sent it, less the key itself
    (it may come in the body or the Idempotency-Key header): canonical JSON."""
    fields = {k: v for k, v in body.items() if k != "idempotency_key"}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def confirm_payment(db: Session, request_id: int, idempotency_key: str, amount: int,
                    now: datetime, holder_name: tuple[str, str],
                    body_hash: str = "") -> PaymentOutcome:
    """Record the payment and issue the certificate, exactly once.

    The first statement is a guarded UPDATE (quoted → paid, unexpired): of any number of
    concurrent confirmations only one changes the row; the others wait for it (row lock in
    PostgreSQL, the write lock in SQLite), see 0 rows and then find its payment. The unique
    idempotency key and the unique request_id on the payment make a second charge impossible
    even if that reasoning were wrong. A repeat must carry the same body (`body_hash`, see
    request_hash) as the confirmation that paid. Must run in a fresh transaction (see the view)."""
    changed = db.execute(update(IssuanceRequest).where(
        IssuanceRequest.id == request_id, IssuanceRequest.state == RequestState.QUOTED,
        IssuanceRequest.expires_at > now, IssuanceRequest.released_at.is_(None))
        .values(state=RequestState.PAID, updated_at=now)).rowcount
    request = db.get(IssuanceRequest, request_id)
    if changed != 1:
        return _repeat_or_refuse(db, request, idempotency_key, body_hash, now)
    if amount != request.fee:
        raise AmountMismatch(f"{amount} != {request.fee}")
    payment = Payment(request_id=request.id, idempotency_key=idempotency_key, amount=amount,
                      request_hash=body_hash, paid_at=now, terminal_id=request.terminal_id)
    db.add(payment)
    db.flush()  # IntegrityError here: the key belongs to another request
    log_event(db, "paid", now, request=request, fee=amount)
    certificate = issue(db, request, now, holder_name)
    return PaymentOutcome(certificate, payment, replayed=False)


def _repeat_or_refuse(db: Session, request: IssuanceRequest, key: str, body_hash: str,
                      now: datetime) -> PaymentOutcome:
    payment = db.scalar(scoped(Payment, Payment.request_id == request.id))
    if payment is not None:
        if payment.idempotency_key != key:
            raise AlreadyPaid(request.state.value)
        if payment.request_hash and payment.request_hash != body_hash:
            raise IdempotencyKeyMismatch(key)
        certificate = db.scalar(scoped(IssuedCertificate, IssuedCertificate.request_id == request.id))
        return PaymentOutcome(certificate, payment, replayed=True)
    ensure_alive(db, request, now)
    raise WrongState(request.state.value)


def issue(db: Session, request: IssuanceRequest, now: datetime,
          holder_name: tuple[str, str]) -> IssuedCertificate:
    """Create the issued certificate (交付) and count it for the joint cloud."""
    year = to_jst(now).year
    certificate = IssuedCertificate(
        request_id=request.id, resident_id=request.resident_id,
        issuance_number=f"{year}-{request.id:08d}", verification_code=new_verification_code(),
        certificate_type=request.certificate_type, fee=request.fee,
        holder_masked_name=mask_name(*holder_name), issued_at=now)
    db.add(certificate)
    request.state, request.updated_at = RequestState.ISSUED, now
    request.expires_at = now + REQUEST_LIFETIME  # time to fetch and print
    db.flush()
    record_usage(db, SERVICE, f"certificate_issued:{request.certificate_type}", when=now)
    log_event(db, "issued", now, request=request, fee=request.fee,
              detail=certificate.issuance_number)
    return certificate


# Why a certificate whose paper never came out is void (shown to staff beside 失効).
PRINT_FAILED_REASON = "印刷できず交付されなかったため無効（手数料は返金）"


def report_outcome(db: Session, request: IssuanceRequest, printed: bool, detail: str,
                   now: datetime) -> IssuanceRequest:
    """The terminal says the paper came out (printed) or not (failed); both release.

    A failed print delivered nothing: the certificate is made void at once (the verification
    page confirms only what the holder printed, so a PDF left on the terminal cannot pass
    as genuine) and the fee goes back to the resident (返金), so the day's reconciliation
    counts neither the certificate nor its payment."""
    if request.state != RequestState.ISSUED or request.released_at is not None:
        raise WrongState(request.state.value)
    if not printed:
        certificate = db.scalar(scoped(IssuedCertificate, IssuedCertificate.request_id == request.id))
        if certificate is not None and certificate.revoked_at is None:
            certificate.revoked_at, certificate.revoke_reason = now, PRINT_FAILED_REASON
            log_event(db, "voided", now, request=request, detail=certificate.issuance_number)
        log_event(db, "refunded", now, request=request, fee=request.fee)
    release(db, request, now, RequestState.PRINTED if printed else RequestState.FAILED,
            "printed" if printed else "failed", detail)
    request.outcome_detail = detail[:200] or None
    return request


def cancel(db: Session, request: IssuanceRequest, now: datetime) -> IssuanceRequest:
    """The resident walked away before paying (取消)."""
    ensure_alive(db, request, now)
    if request.state not in OPEN_STATES:
        raise WrongState(request.state.value)
    release(db, request, now, RequestState.EXPIRED, "cancelled")
    return request


def release(db: Session, request: IssuanceRequest, now: datetime, state: RequestState,
            event: str, detail: str = "") -> None:
    """End of the request's life: the token stops working, the PDF is dropped."""
    request.state, request.updated_at = state, now
    request.released_at, request.pdf = now, None
    log_event(db, event, now, request=request, detail=detail)


def expire_requests(db: Session, now: datetime) -> int:
    """Sweep: release every request of this municipality past its time. Returns how many."""
    stale = db.scalars(scoped(IssuanceRequest, IssuanceRequest.released_at.is_(None),
                              IssuanceRequest.expires_at <= now)).all()
    for request in stale:
        state = RequestState.EXPIRED if request.state in OPEN_STATES else request.state
        release(db, request, now, state, "expired")
    return len(stale)


# -- staff ---------------------------------------------------------------------------------

def revoke(db: Session, certificate: IssuedCertificate, staff_id: int, reason: str,
           now: datetime) -> None:
    """失効: the verification page will say the certificate is no longer valid."""
    if certificate.revoked_at is not None:
        raise WrongState("already revoked")
    certificate.revoked_at, certificate.revoked_by = now, staff_id
    certificate.revoke_reason = reason[:200]
    log_event(db, "revoked", now, resident_id=certificate.resident_id,
              detail=f"{certificate.issuance_number} {reason}")


def jst_day_bounds(day: date) -> tuple[datetime, datetime]:
    """A Japan-time calendar day as a UTC naive [start, end)."""
    start = datetime.combine(day, time(0), JST).astimezone(timezone.utc).replace(tzinfo=None)
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class Reconciliation:
    """日次照合: certificates and fees by type for one day, and the payments received.
    A certificate whose print failed was never delivered and its fee was refunded: it is
    counted in neither, only in `refunds` (count, yen)."""
    day: date
    rows: tuple[tuple[str, int, int], ...]   # (type, count, fees)
    payments_total: int
    refunds: tuple[int, int] = (0, 0)

    @property
    def fees_total(self) -> int:
        return sum(row[2] for row in self.rows)

    @property
    def count_total(self) -> int:
        return sum(row[1] for row in self.rows)

    @property
    def balanced(self) -> bool:
        return self.fees_total == self.payments_total


def reconcile(db: Session, day: date) -> Reconciliation:
    start, end = jst_day_bounds(day)
    delivered = IssuanceRequest.state != RequestState.FAILED
    rows = db.execute(
        select(IssuedCertificate.certificate_type, func.count(), func.sum(IssuedCertificate.fee))
        .join(IssuanceRequest, IssuanceRequest.id == IssuedCertificate.request_id)
        .where(IssuedCertificate.issued_at >= start, IssuedCertificate.issued_at < end, delivered)
        .group_by(IssuedCertificate.certificate_type).order_by(IssuedCertificate.certificate_type)).all()
    paid = db.scalar(select(func.coalesce(func.sum(Payment.amount), 0))
                     .join(IssuanceRequest, IssuanceRequest.id == Payment.request_id)
                     .where(Payment.paid_at >= start, Payment.paid_at < end, delivered))
    refunded = db.execute(select(func.count(), func.coalesce(func.sum(Payment.amount), 0))
                          .join(IssuanceRequest, IssuanceRequest.id == Payment.request_id)
                          .where(Payment.paid_at >= start, Payment.paid_at < end,
                                 IssuanceRequest.state == RequestState.FAILED)).one()
    return Reconciliation(day, tuple((t, int(c), int(f or 0)) for t, c, f in rows), int(paid or 0),
                          (int(refunded[0]), int(refunded[1] or 0)))
