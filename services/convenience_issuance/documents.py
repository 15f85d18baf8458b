"""From an issued certificate to its signed PDF: read the registry, lay out, sign.

Every person whose record appears on the paper gets an access-log entry (log_access) before
the PDF leaves the server."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from portal.api import (Household, Municipality, Resident, ResidentStatus, SealRegistration,
                        TaxRecord, log_access, scoped)
from services.convenience_issuance.certificates import CertificateContent, Member, render
from services.convenience_issuance.issuance import household_of
from services.convenience_issuance.models import IssuanceRequest, IssuedCertificate
from services.convenience_issuance.services import CertificateType, to_jst
from services.convenience_issuance.signing import KeyRing, TrustServices, sign_pdf

PURPOSE = "コンビニ交付による証明書の発行"


def member_of(resident: Resident) -> Member:
    return Member(name=resident.name, name_kana=resident.name_kana,
                  birth_date=resident.birth_date, sex=resident.sex.value,
                  relationship=resident.relationship_to_head, honseki=resident.honseki,
                  hittosha=resident.hittosha)


def printed_people(db: Session, holder: Resident, options: dict) -> list[Resident]:
    """Holder first, then the other active members if the whole household was asked for
    (people removed from the registry, 消除者, are never printed)."""
    if not options.get("household"):
        return [holder]
    others = [m for m in household_of(db, holder)
              if m.id != holder.id and m.status == ResidentStatus.ACTIVE]
    return [holder] + others


def build_content(db: Session, request: IssuanceRequest, certificate: IssuedCertificate,
                  municipality: Municipality, verify_url: str,
                  municipal_seal_image: str | None) -> tuple[CertificateContent, list[int]]:
    """The snapshot to print, and the ids of the residents whose records it shows."""
    holder = db.get(Resident, request.resident_id)
    kind = CertificateType(request.certificate_type)
    people = printed_people(db, holder, request.options) if kind == CertificateType.JUMINHYO else [holder]
    household = db.get(Household, holder.household_id) if holder.household_id else None
    content = dict(
        certificate_type=kind, city_name=municipality.name, address=holder.address,
        holder=member_of(holder), issued_at=to_jst(certificate.issued_at),
        issuance_number=f"{municipality.code}-{certificate.issuance_number}",
        verification_code=certificate.verification_code, verify_url=verify_url,
        head_name=household.head_name if household else holder.name,
        members=tuple(member_of(p) for p in people), options=dict(request.options),
        municipal_seal_image=municipal_seal_image)
    if kind == CertificateType.INKAN:
        seal = db.scalar(scoped(SealRegistration, SealRegistration.resident_id == holder.id,
                                SealRegistration.active.is_(True)).limit(1))
        content.update(seal_registration_number=seal.registration_number, seal_image=seal.seal_image)
    if kind == CertificateType.SHOTOKU_KAZEI:
        year = request.options["fiscal_year"]
        record = db.scalar(scoped(TaxRecord, TaxRecord.resident_id == holder.id,
                                  TaxRecord.fiscal_year == year))
        content.update(fiscal_year=year, tax={
            "total_income": record.total_income, "taxable_income": record.taxable_income,
            "municipal_tax": record.municipal_tax, "prefectural_tax": record.prefectural_tax})
    return CertificateContent(**content), [p.id for p in people]


def signed_pdf(db: Session, request: IssuanceRequest, certificate: IssuedCertificate,
               municipality: Municipality, verify_url: str, keys: KeyRing,
               seal_image: Path | None = None, trust: TrustServices | None = None) -> bytes:
    """Lay out and sign; log the access of every person shown. The 公印 drawn is the
    city's configured `seal_image` (resolved by the caller), else the signing key's, else
    a generated one."""
    key = keys.key_for(municipality.code, municipality.name)
    content, shown = build_content(db, request, certificate, municipality, verify_url,
                                   str(seal_image) if seal_image else key.seal_image)
    for resident_id in shown:
        log_access(db, resident_id, "issue", f"convenience_issuance.{certificate.certificate_type}",
                   PURPOSE)
    return sign_pdf(render(content), key, municipality.name, trust)
