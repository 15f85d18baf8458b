"""A kiosk's start page. Each kiosk is configured (KIOSKS) with its municipality and name;
sessions begun there end when the card leaves the reader or after a short idle time."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, session, url_for

from portal.auth import sign_out

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")


def kiosk_config(kiosk_id: str) -> dict:
    kiosk = current_app.config["KIOSKS"].get(kiosk_id)
    if kiosk is None:
        abort(404)
    return kiosk


@bp.get("/<kiosk_id>")
def start(kiosk_id: str):
    """The idle screen. Showing it changes nothing (a GET may be prefetched or replayed):
    the session ends by the card leaving, the idle time, or the next resident's start."""
    kiosk = kiosk_config(kiosk_id)
    return render_template("kiosk/start.html", kiosk=kiosk, kiosk_id=kiosk_id,
                           bridge=current_app.config["CARD_BRIDGE_URL"].rstrip("/"))


@bp.post("/<kiosk_id>")
def begin(kiosk_id: str):
    """The next resident starts: whoever was here before is signed out, nothing of them
    remains, and this browser is the kiosk for the card sign-in that follows."""
    kiosk_config(kiosk_id)
    if session.get("viewer"):
        sign_out("kiosk_reset")
    session["kiosk_id"] = kiosk_id
    return redirect(url_for("cards.login_page"))
