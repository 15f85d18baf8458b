"""Staff sign-in (password, then TOTP) and the staff start page."""
from __future__ import annotations

import hashlib

from flask import (Blueprint, current_app, flash, redirect, render_template, request,
                   session, url_for)
from portal.web.i18n import gettext as _

from sqlalchemy import select

from portal.audit.auth_events import AuthEvent, lockouts_of_staff, record_attempt
from portal.auth import (Viewer, current_viewer, remember_next, safe_next, sign_in, sign_out,
                         staff_required)
from portal.clock import to_jst
from portal.extensions import database, get_db, limiter
from portal.metering.services import record_usage
from portal.staff.forms import LoginForm, TotpForm
from portal.sessions.services import PASSWORD_TOTP
from portal.staff.models import ROLE_LABELS, Role, StaffAccount
from portal.staff.services import LockoutPolicy, SignInRefused, check_password, check_totp
from portal.tenancy.models import Municipality
from portal.tenancy.services import by_code

bp = Blueprint("staff", __name__, url_prefix="/staff")

PENDING = "staff_pending"  # first factor passed, TOTP not yet


def _policy() -> LockoutPolicy:
    return LockoutPolicy(current_app.config["STAFF_MAX_FAILED_LOGINS"],
                         current_app.config["STAFF_LOCKOUT_MINUTES"])


def account_key() -> str:
    """Rate-limit key of one account (city code and user name), whoever tries it."""
    named = f"{request.form.get('municipality_code', '')[:6]}\0{request.form.get('username', '').casefold()}"
    return "staff-account:" + hashlib.sha256(named.encode()).hexdigest()


def city_key() -> str:
    """Rate-limit key of one city's sign-in, from however many addresses."""
    return "staff-city:" + request.form.get("municipality_code", "")[:6]


def _limit(setting: str):
    return lambda: current_app.config[setting]


# Each attempt costs an Argon2 hash: password spraying is slowed per address, per account
# and per city (counts shared by the workers where RATE_LIMIT_STORAGE names Redis).
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("STAFF_LOGIN_RATE_LIMIT"), methods=["POST"])
@limiter.limit(_limit("STAFF_LOGIN_ACCOUNT_RATE_LIMIT"), key_func=account_key, methods=["POST"])
@limiter.limit(_limit("STAFF_LOGIN_CITY_RATE_LIMIT"), key_func=city_key, methods=["POST"])
def login():
    remember_next()
    form = LoginForm()
    if form.validate_on_submit():
        error = _first_factor(form)
        if error is None:
            return redirect(url_for("staff.login_totp"))
        flash(error, "error")
    return render_template("staff/login.html", form=form)


def _first_factor(form: LoginForm) -> str | None:
    with database().transaction() as public:
        municipality = by_code(public, form.municipality_code.data)
    if municipality is None:
        record_attempt("staff_password", "refused", "unknown_municipality")
        return _("利用者名またはパスワードが違います。")
    # Failure counts must be committed even though sign-in is refused.
    with database().transaction(municipality.id) as db:
        try:
            account = check_password(db, form.username.data, form.password.data, _policy())
        except SignInRefused as refused:
            failure = refused
        else:
            failure = None
            target = session.get("login_next")
            session.clear()
            session[PENDING] = {"id": account.id, "mid": municipality.id, "next": target}
    if failure is not None:
        record_attempt("staff_password", "refused", "locked" if failure.locked else "bad_credentials",
                       municipality_id=municipality.id,
                       subject_kind="staff" if failure.account_id else None, subject_id=failure.account_id)
        return _(failure.message)
    record_attempt("staff_password", "ok", municipality_id=municipality.id, subject_kind="staff",
                   subject_id=session[PENDING]["id"])
    return None


@bp.route("/login/totp", methods=["GET", "POST"])
def login_totp():
    pending = session.get(PENDING)
    if not pending:
        return redirect(url_for("staff.login"))
    form = TotpForm()
    if form.validate_on_submit():
        with database().transaction(pending["mid"]) as db:
            account = db.get(StaffAccount, pending["id"])
            previous_sign_in = account.last_login_at
            try:
                check_totp(account, form.code.data, _policy())
            except SignInRefused as refused:
                error = refused
            else:
                error = None
                viewer = Viewer("staff", account.id, account.municipality_id,
                                account.display_name, account.roles)
                record_usage(db, "core", "sign_in")  # staff sign-ins count like residents'
        record_attempt("staff_totp", "ok" if error is None else "refused",
                       "" if error is None else ("locked" if error.locked else "bad_code"),
                       municipality_id=pending["mid"], subject_kind="staff", subject_id=pending["id"])
        if error is None:
            sign_in(viewer, PASSWORD_TOTP)
            _tell_of_lockouts(viewer, previous_sign_in)
            return redirect(safe_next(pending.get("next")) or url_for("staff.dashboard"))
        if error.locked:
            session.pop(PENDING, None)
        flash(_(error.message), "error")
    return render_template("staff/totp.html", form=form)


def _tell_of_lockouts(viewer: Viewer, since) -> None:
    """The sign-in page tells nobody that an account is locked; its owner learns it here."""
    with database().transaction() as db:
        lockouts = lockouts_of_staff(db, viewer.id, since)
    if lockouts:
        flash(_("前回のログインの後、ログインの失敗が続いたため、このアカウントは一時的にロックされていました"
                "（最後の記録: %(when)s）。心当たりがない場合は管理者に連絡してください。",
                when=to_jst(lockouts[-1]).strftime("%Y-%m-%d %H:%M")), "warning")


@bp.post("/logout")
def logout():
    sign_out()
    return redirect(url_for("staff.login"))


@bp.get("/")
@staff_required()
def dashboard():
    viewer = current_viewer()
    from portal.services_host import current_municipality, menu_for
    municipality = current_municipality()
    return render_template("staff/dashboard.html", municipality=municipality,
                           roles=[_(ROLE_LABELS[r]) for r in viewer.roles],
                           menu=menu_for(viewer, municipality))


@bp.get("/auth-events")
@staff_required(Role.ADMINISTRATOR)
def auth_events():
    """The city's sign-in attempts (card and password), newest first, for its administrator."""
    viewer = current_viewer()
    with database().transaction() as db:
        events = db.scalars(select(AuthEvent).where(AuthEvent.municipality_id == viewer.municipality_id)
                            .order_by(AuthEvent.occurred_at.desc(), AuthEvent.id.desc()).limit(200)).all()
    return render_template("staff/auth_events.html", events=events, to_jst=to_jst)
