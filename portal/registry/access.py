"""Whose records a resident may see (their own and their children's, as guardian). The
resident search staff use is in `portal.registry.search`."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.db import scoped
from portal.registry.models import GuardianLink, Resident


def children_of(db: Session, guardian_id: int) -> list[Resident]:
    return list(db.scalars(scoped(Resident).join(GuardianLink, GuardianLink.child_id == Resident.id)
                           .where(GuardianLink.guardian_id == guardian_id)
                           .order_by(Resident.birth_date)))


def is_guardian_of(db: Session, guardian_id: int, child_id: int) -> bool:
    return db.scalar(scoped(GuardianLink.id).where(GuardianLink.guardian_id == guardian_id,
                                                   GuardianLink.child_id == child_id)
                     ) is not None


def child_of(db: Session, guardian_id: int, child_id: int) -> Resident | None:
    """The child, if `guardian_id` is its registered guardian: one query for both."""
    return db.scalar(scoped(Resident, Resident.id == child_id).join(
        GuardianLink, (GuardianLink.child_id == Resident.id)
        & (GuardianLink.guardian_id == guardian_id)))


def viewable_resident_ids(db: Session, viewer) -> set[int]:
    """Residents whose records a signed-in resident may open: self and their children."""
    if viewer is None or not viewer.is_resident:
        return set()
    children = db.scalars(scoped(GuardianLink.child_id)
                          .where(GuardianLink.guardian_id == viewer.id))
    return {viewer.id, *children}


def guardians_of(db: Session, child_id: int) -> list[Resident]:
    return list(db.scalars(scoped(Resident).join(GuardianLink, GuardianLink.guardian_id == Resident.id)
                           .where(GuardianLink.child_id == child_id).order_by(Resident.id)))
