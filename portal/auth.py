"""Who is asking: the signed-in resident or staff member of this request (`g.viewer`)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask import abort, current_app, g, redirect, request, session, url_for

from portal.staff.models import PERSONAL_DATA_ROLES, Role


@dataclass(frozen=True)
class Viewer:
    kind: str                      # "resident" or "staff"
    id: int
    municipality_id: int
    name: str
    roles: frozenset[Role] = field(default_factory=frozenset)

    @property
    def is_resident(self) -> bool:
        return self.kind == "resident"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    def has_role(self, *roles: Role) -> bool:
        return self.is_staff and bool(self.roles & set(roles))

    @property
    def may_see_personal_data(self) -> bool:
        return self.is_staff and bool(self.roles & PERSONAL_DATA_ROLES)

    @property
    def role_label(self) -> str:
        if self.is_resident:
            return "resident"
        return ",".join(sorted(r.value for r in self.roles))


def sign_in(viewer: Viewer) -> None:
    """Start a fresh session for the viewer (a new session, so nothing carries over)."""
    session.clear()
    session["viewer"] = {"kind": viewer.kind, "id": viewer.id,
                         "mid": viewer.municipality_id, "name": viewer.name,
                         "roles": sorted(r.value for r in viewer.roles)}
    session.permanent = True


def sign_out() -> None:
    session.clear()


def load_viewer() -> None:
    data = session.get("viewer")
    g.viewer = None
    if data:
        g.viewer = Viewer(kind=data["kind"], id=data["id"], municipality_id=data["mid"],
                          name=data["name"], roles=frozenset(Role(r) for r in data["roles"]))


def current_viewer() -> Viewer | None:
    return g.get("viewer")


def resident_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        viewer = current_viewer()
        if viewer is None:
            return redirect(url_for("public.home", next=request.path))
        if not viewer.is_resident:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def staff_required(*roles: Role):
    """Require a staff sign-in holding one of `roles` (any staff role if none given)."""
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            viewer = current_viewer()
            if viewer is None:
                return redirect(url_for("staff.login", next=request.path))
            if not viewer.is_staff or (roles and not viewer.has_role(*roles)):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def signed_in_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_viewer() is None:
            return redirect(url_for("public.home", next=request.path))
        return view(*args, **kwargs)
    return wrapped


def dev_mode() -> bool:
    return current_app.config.get("ENV") == "development"
