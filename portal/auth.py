"""Who is asking: the signed-in resident or staff member of this request (`g.viewer`)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from portal.web.i18n import gettext as _

from portal.sessions.services import end_session, find_live_session, open_session
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


def sign_in(viewer: Viewer, method: str, kiosk: bool = False) -> None:
    """Start a new session for the viewer: a new server-side id, nothing carried over.
    `method` says how they proved who they are (portal.sessions.services.CARD_PIN, ...).
    Written in the request's unit of work: if the request fails, nobody is signed in."""
    from portal.extensions import current_unit
    work = current_unit()
    work.scope_to(viewer.municipality_id)
    token = open_session(work.session, viewer.kind, viewer.id, viewer.municipality_id, kiosk,
                         method)
    _clear_session()
    session["sid"] = token
    session["kiosk"] = kiosk
    session["viewer"] = {"kind": viewer.kind, "id": viewer.id,
                         "mid": viewer.municipality_id, "name": viewer.name,
                         "roles": sorted(r.value for r in viewer.roles)}
    session.permanent = True
    g.viewer = viewer
    work.actor = None  # the access log names whoever is signed in from now on


def sign_out(reason: str = "logout") -> None:
    token = session.get("sid")
    if token:
        from portal.extensions import get_db
        end_session(get_db(), token, reason)
    _clear_session()
    g.viewer = None


def _clear_session() -> None:
    """Forget everything of the person, but not which kiosk this browser is: the terminal
    stays a kiosk for the next resident (its card watch, its short idle time)."""
    kiosk_id = session.get("kiosk_id")
    session.clear()
    if kiosk_id:
        session["kiosk_id"] = kiosk_id


def load_viewer() -> None:
    """Before each request: the viewer of a live server-side session, or nobody."""
    g.viewer = None
    data, token = session.get("viewer"), session.get("sid")
    if not data:
        return
    record = _live_session(token) if token else None
    if record is None:
        was_kiosk = session.get("kiosk")
        _clear_session()
        # Say why, so nobody thinks the portal lost their work or signed them in as another;
        # not at a kiosk, where the next person would read it.
        if not was_kiosk:
            flash(_("ログインの有効期限が切れたか、ログアウトされました。もう一度ログインしてください。"), "info")
        return
    g.viewer = Viewer(kind=data["kind"], id=data["id"], municipality_id=data["mid"],
                      name=data["name"], roles=frozenset(Role(r) for r in data["roles"]))
    if record.municipality.id == g.viewer.municipality_id:
        g.municipality = record.municipality   # read with the session: current_municipality
    from portal.extensions import current_unit
    current_unit().scope_to(g.viewer.municipality_id)


def _live_session(token: str):
    """The live session (with its city), read in the request's unit of work; its end or
    its `last_seen` are deferred writes, so a page that only reads never takes a write
    lock for them."""
    from portal.extensions import current_unit
    config = current_app.config
    work = current_unit()
    return find_live_session(
        work.session, token, idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        kiosk_idle=timedelta(seconds=config["KIOSK_IDLE_SECONDS"]),
        absolute=timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
        write=work.defer)


def current_viewer() -> Viewer | None:
    return g.get("viewer")


def resident_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        viewer = current_viewer()
        if viewer is None:
            return sign_in_first("cards.login_page", request.full_path.rstrip("?"))
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
                return sign_in_first("staff.login", request.path)
            if not viewer.is_staff or (roles and not viewer.has_role(*roles)):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def signed_in_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_viewer() is None:
            return sign_in_first("public.home", request.path)
        return view(*args, **kwargs)
    return wrapped


def sign_in_first(endpoint: str, back_to: str):
    """Say why, then go where one signs in (a silent redirect looked like a broken link);
    the sign-in pages bring the person back to `back_to`."""
    flash(_("このページを見るにはログインが必要です。ログインすると、このページに戻ります。"), "notice")
    return redirect(url_for(endpoint, next=back_to))


def safe_next(value: str | None) -> str | None:
    """A same-origin path to return to after sign-in, or None (never another site).
    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so
    '/\t/evil.example' is '//evil.example' to them: any control character, space or
    backslash refuses, and so does anything with a scheme or host."""
    if not value or not value.startswith("/") or "\\" in value:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return None
    return value


def remember_next() -> None:
    """Keep the page asked for across the sign-in steps (the session id changes, this
    value is carried over by the sign-in views)."""
    target = safe_next(request.args.get("next"))
    if target:
        session["login_next"] = target


def dev_mode() -> bool:
    return current_app.config.get("ENV") == "development"
