"""Card login on the server: challenges, validators from configuration, bindings, enrollment."""
from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from flask import Flask, current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from portal.cards.errors import CardTokenError, NonceInvalid
from portal.cards.models import CardBinding, LoginChallenge
from portal.cards.ocsp import OcspClient
from portal.cards.revocation import CrlStore, RevocationSources, crl_keys
from portal.cards.validation import (AUTH_POLICY_OID, SIGNING_POLICY_OID, TokenValidator,
                                     ValidatedCertificate)
from portal.db import Read, across_municipalities
from portal.registry.models import Resident, ResidentRead, ResidentStatus, Sex
from portal.unit_of_work import write_now

NONCE_LIFETIME = timedelta(minutes=5)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# -- challenges --------------------------------------------------------------------------

def issue_challenge(db: Session, binding: str, purpose: str) -> LoginChallenge:
    now = utcnow()
    challenge = LoginChallenge(nonce=secrets.token_urlsafe(32), session_binding=binding,
                               purpose=purpose, created_at=now, expires_at=now + NONCE_LIFETIME)
    db.add(challenge)
    db.flush()
    return challenge


# Built once: the ORM's bulk UPDATE (its criteria coerced anew, its session synchronised)
# cost more than the statement's round trip, on every login.
_CHALLENGE = LoginChallenge.__table__
_CONSUME = update(_CHALLENGE).where(
    _CHALLENGE.c.nonce == bindparam("b_nonce"),
    _CHALLENGE.c.session_binding == bindparam("b_binding"),
    _CHALLENGE.c.purpose == bindparam("b_purpose"), _CHALLENGE.c.consumed_at.is_(None),
    _CHALLENGE.c.expires_at > bindparam("now")).values(consumed_at=bindparam("now"))


def consume_challenge(db: Session, nonce: str | None, binding: str | None, purpose: str) -> None:
    """Take the nonce exactly once: one UPDATE guarded on 'unused, unexpired, this session',
    so of any number of concurrent posts only one sees a row change. It is written in the
    caller's transaction: a refusal that follows commits with it (the nonce stays used)."""
    if not nonce or not binding:
        raise NonceInvalid("no challenge in this session")
    result = write_now(db, _CONSUME, {"b_nonce": nonce, "b_binding": binding,
                                      "b_purpose": purpose, "now": utcnow()})
    if result.rowcount != 1:
        raise NonceInvalid(f"nonce {nonce[:8]}… unknown, used, expired or of another session")


# -- validators ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Validators:
    auth: TokenValidator
    signing: TokenValidator | None
    crls: CrlStore


def load_certificates(paths) -> tuple[x509.Certificate, ...]:
    certs = []
    for path in paths:
        data = Path(path).read_bytes()
        certs.extend(x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                     else [x509.load_der_x509_certificate(data)])
    return tuple(certs)


def validators(app: Flask | None = None) -> Validators:
    """Built once per app from configuration (at start-up, see `init_app`), then immutable."""
    app = app or current_app
    cached = app.extensions.get("madoguchi.card_validators")
    if cached is None:
        cached = _build_validators(app.config)
        app.extensions["madoguchi.card_validators"] = cached
    return cached


def _build_validators(config) -> Validators:
    auth_cas = load_certificates(config["CARD_TRUST_ANCHORS"])
    signing_cas = load_certificates(config.get("CARD_SIGNING_TRUST_ANCHORS") or [])
    crls = CrlStore(list(config.get("CARD_CRLS") or []), list(auth_cas + signing_cas),
                    cache_dir=Path(config["CARD_CRL_INDEX_DIR"]))
    # Only what no process has indexed yet: fetching and re-checking is the refresher's job.
    crls.refresh(missing_only=True)
    sources: list = [crls]
    if config.get("CARD_OCSP_URL"):
        sources.append(OcspClient(config["CARD_OCSP_URL"],
                                  timeout_s=float(config.get("CARD_OCSP_TIMEOUT_S") or 5)))
    revocation = RevocationSources(sources, soft_fail=bool(config.get("CARD_CRL_SOFT_FAIL")))
    auth = TokenValidator(auth_cas, revocation, frozenset(config.get("CARD_AUTH_POLICIES") or [AUTH_POLICY_OID]))
    signing = None
    if signing_cas:
        signing = TokenValidator(signing_cas, revocation, frozenset({SIGNING_POLICY_OID}),
                                 key_usages=frozenset({"digital_signature", "content_commitment"}))
    return Validators(auth, signing, crls)


def init_app(app: Flask) -> None:
    """At start-up, not in the first login: trust anchors read, CRL indexes mapped (built
    when missing). A deployment without card login configured skips this."""
    app.config.setdefault("CARD_CRL_INDEX_DIR", None)
    if not app.config["CARD_CRL_INDEX_DIR"]:
        app.config["CARD_CRL_INDEX_DIR"] = str(Path(app.instance_path) / "crl-index")
    if app.config.get("CARD_TRUST_ANCHORS"):
        validators(app)


def revocation_reference(cert: ValidatedCertificate) -> dict:
    """What a session keeps of the certificate it was opened with, to notice its revocation:
    the CA's fingerprint, the CRL partition and the serial (nothing about the person)."""
    (issuer, partition), _whole = crl_keys(cert.certificate, cert.issuer)
    return {"issuer": issuer.hex(), "partition": partition, "serial": cert.serial_hex}


def revoked_since_sign_in(reference: dict, app: Flask | None = None) -> bool:
    """Whether a CRL now held lists the certificate a session was opened with."""
    return validators(app).crls.listed(bytes.fromhex(reference["issuer"]), reference["partition"],
                                       int(reference["serial"], 16))


# -- bindings and enrollment ----------------------------------------------------------------

_BINDING, _RESIDENT = CardBinding.__table__, Resident.__table__
# Built once, bound per login: coercing the criteria anew cost more than the lookup.
_BY_CERTIFICATE = (_BINDING.c.issuer == bindparam("issuer"), _BINDING.c.serial == bindparam("serial"),
                   _BINDING.c.fingerprint_sha256 == bindparam("fingerprint"),
                   _BINDING.c.revoked_at.is_(None))
_FIND_BINDING = across_municipalities(select(CardBinding).where(*_BY_CERTIFICATE))
# What a sign-in needs of the resident, read with the binding, in the binding's city (the
# join's city condition is the scope the ORM's tenant criterion gave the resident's read).
_RESIDENT_COLUMNS = ("id", "municipality_id", "status", "family_name", "given_name")
_BOUND_ACCOUNT = across_municipalities(
    select(_BINDING, *(_RESIDENT.c[name].label("person_" + name) for name in _RESIDENT_COLUMNS))
    .outerjoin(_RESIDENT, (_RESIDENT.c.id == _BINDING.c.resident_id)
               & (_RESIDENT.c.municipality_id == _BINDING.c.municipality_id))
    .where(*_BY_CERTIFICATE))


def _certificate(cert: ValidatedCertificate) -> dict:
    return {"issuer": cert.issuer_name, "serial": cert.serial_hex, "fingerprint": cert.fingerprint}


def find_binding(db: Session, cert: ValidatedCertificate) -> CardBinding | None:
    """Bindings are looked up before the city is known: by exact issuer, serial and print."""
    return db.scalar(_FIND_BINDING, _certificate(cert))


def find_bound_account(db: Session, cert: ValidatedCertificate) -> Read | None:
    """The binding of `cert` as find_binding finds it, read as a row (`Read`), with
    `.resident`: its resident in the binding's city (ResidentRead: id, municipality_id,
    status, name), or None (a staff card, or no such resident). One statement, no ORM
    objects: a sign-in only reads them."""
    row = db.connection().execute(_BOUND_ACCOUNT, _certificate(cert)).first()
    if row is None:
        return None
    values = row._asdict()
    resident = {name: values.pop("person_" + name) for name in _RESIDENT_COLUMNS}
    return Read(values, resident=ResidentRead(resident) if resident["id"] is not None else None)


class EnrollmentRefused(CardTokenError):
    status = 409

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(detail)
        self.message = message


def normalise(text: str) -> str:
    """Width and spaces do not distinguish people: NFKC, then drop every kind of space."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


# JPKI's sex codes (1 male, 2 female, 3 unknown) as the registry writes them.
CARD_SEX = {"1": Sex.MALE, "2": Sex.FEMALE, "3": Sex.NOT_APPLICABLE}


def match_resident(db: Session, name: str, birth_date, sex: str, address: str,
                   substituted: bool = False) -> Resident:
    """Exactly one active resident agreeing with all four facts the card carries (基本4情報):
    name, birth date, sex (the JPKI code) and address — the bridge tells the resident so.
    `substituted`: the card replaced a character it cannot hold (外字) in the name or
    address, so a mismatch is expected and the counter must bind the card."""
    if birth_date is None:
        raise EnrollmentRefused("生年月日を確認できませんでした。窓口でご相談ください。",
                                "signing certificate without a birth date")
    same_birth = db.scalars(across_municipalities(
        select(Resident).where(Resident.birth_date == birth_date))).all()
    people = [r for r in same_birth
              if normalise(r.family_name + r.given_name) == normalise(name)]
    same_sex = [r for r in people if r.sex == CARD_SEX.get(sex)]
    at_address = [r for r in same_sex if normalise(r.address) == normalise(address)]
    active = [r for r in at_address if r.status == ResidentStatus.ACTIVE]
    if len(active) == 1:
        return active[0]
    if len(active) > 1:
        raise EnrollmentRefused("同じ情報の方が複数登録されているため、自動で登録できません。"
                                "お住まいの市区町村の窓口でご登録ください。", "several residents match")
    if substituted:
        raise EnrollmentRefused("カードの氏名または住所に、表せない文字の代わりの文字（代替文字）が使われているため、"
                                "自動で登録できません。お住まいの市区町村の窓口でご登録ください。",
                                "substitute characters in the certificate's name or address")
    if people:
        raise EnrollmentRefused("住民登録の内容とカードの内容が一致しないか、住民登録が有効ではありません。"
                                "お住まいの市区町村の窓口でご確認ください。",
                                _mismatch(same_sex, at_address))
    raise EnrollmentRefused("カードの内容に一致する住民登録が見つかりません。"
                            "参加している市区町村にお住まいか、窓口でご確認ください。", "no resident matches")


def _mismatch(same_sex: list, at_address: list) -> str:
    """Which fact differs, for staff (the resident reads one message for all of them)."""
    if at_address:
        return "matching resident is not active"
    return "address differs" if same_sex else "sex differs"


def bind(db: Session, cert: ValidatedCertificate, municipality_id: int,
         resident_id: int | None = None, staff_id: int | None = None) -> CardBinding:
    """Bind a certificate; an earlier certificate of the same person stays (renewal re-enrolls)."""
    binding = CardBinding(municipality_id=municipality_id, issuer=cert.issuer_name,
                          serial=cert.serial_hex, fingerprint_sha256=cert.fingerprint,
                          resident_id=resident_id, staff_id=staff_id,
                          not_after=cert.certificate.not_valid_after_utc.replace(tzinfo=None))
    db.add(binding)
    db.flush()
    return binding
