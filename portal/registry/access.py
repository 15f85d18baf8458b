"""Whose records a resident may see (their own and their children's, as guardian). The
resident search staff use is in `portal.registry.search`."""
from __future__ import annotations

from sqlalchemy import Integer, bindparam, select, union_all
from sqlalchemy.orm import Session

from portal.db import Rows, scoped
from portal.registry.models import GuardianLink, Resident, ResidentRead


def children_of(db: Session, guardian_id: int) -> list[Resident]:
    return list(db.scalars(scoped(Resident).join(GuardianLink, GuardianLink.child_id == Resident.id)
                           .where(GuardianLink.guardian_id == guardian_id)
                           .order_by(Resident.birth_date)))


def self_and_children(db: Session, resident_id: int) -> tuple[ResidentRead, list[ResidentRead]]:
    """The resident (None if not of the session's city) and their children as guardian,
    oldest first, in one statement, as rows for a page that only shows them. Rows keeps
    the people to the session's city; the links are its own by the same token."""
    people = _SELF_AND_CHILDREN(db, resident_id=resident_id)
    me = next((p for p in people if p.id == resident_id), None)
    return me, [p for p in people if p.id != resident_id]


def viewable_resident(db: Session, viewer, resident_id: int) -> ResidentRead | None:
    """The resident `resident_id` if the signed-in resident `viewer` may open their
    records (themselves or their child), else None: one statement, a row."""
    found = _VIEWABLE(db, resident_id=resident_id, viewer_id=viewer.id)
    return found[0] if found else None


def resident_row(db: Session, resident_id: int) -> ResidentRead | None:
    """A resident of the session's city as a row (for staff pages that only show it)."""
    found = _RESIDENT(db, resident_id=resident_id)
    return found[0] if found else None


def _self_and_children_ids(resident_id):
    """The resident's id and their children's, as one UNION ALL: `id = me OR id IN
    (children)` reads the whole city on PostgreSQL (an OR with a subquery takes no index);
    these are read by primary key."""
    return union_all(select(resident_id),
                     select(GuardianLink.child_id).where(GuardianLink.guardian_id == resident_id))


def is_guardian_of(db: Session, guardian_id: int, child_id: int) -> bool:
    return db.scalar(scoped(GuardianLink.id).where(GuardianLink.guardian_id == guardian_id,
                                                   GuardianLink.child_id == child_id)
                     ) is not None


def child_of(db: Session, guardian_id: int, child_id: int) -> ResidentRead | None:
    """The child, if `guardian_id` is its registered guardian: one statement for both, as
    a row (the child's pages only show it)."""
    found = _CHILD_OF(db, guardian_id=guardian_id, child_id=child_id)
    return found[0] if found else None


# The reads every resident page runs, built once (portal.db.Rows).
_SELF_AND_CHILDREN = Rows(
    Resident, Resident.id.in_(_self_and_children_ids(bindparam("resident_id", type_=Integer))),
    order_by=(Resident.birth_date, Resident.id), stand_in=ResidentRead)
_VIEWABLE = Rows(
    Resident, Resident.id == bindparam("resident_id"),
    Resident.id.in_(_self_and_children_ids(bindparam("viewer_id", type_=Integer))),
    stand_in=ResidentRead)
_RESIDENT = Rows(Resident, Resident.id == bindparam("resident_id"), stand_in=ResidentRead)
_CHILD_OF = Rows(
    Resident, Resident.id == bindparam("child_id"),
    Resident.id.in_(select(GuardianLink.child_id).where(
        GuardianLink.guardian_id == bindparam("guardian_id"),
        GuardianLink.child_id == bindparam("child_id"))),
    stand_in=ResidentRead)


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
