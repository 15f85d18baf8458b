"""A kiosk's start page. Each kiosk is configured (KIOSKS) with its municipality, name and
optionally its own card bridge (`bridge`, a bridge run with --kiosk beside its reader);
sessions begun there end when the card leaves the reader or after a short idle time."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, session, url_for

from portal.auth import sign_out

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")


def bridge_url() -> str:
    """The card bridge this browser talks to: its kiosk's own when it is a kiosk (the kiosk
    page needs a bridge in kiosk mode: PIN pad, card events), else the deployment's."""
    kiosk = current_app.config["KIOSKS"].get(session.get("kiosk_id") or "") or {}
    return (kiosk.get("bridge") or current_app.config["CARD_BRIDGE_URL"]).rstrip("/")


@bp.app_template_global("card_bridge_url")
def _card_bridge_url() -> str:
    return bridge_url()


def kiosk_config(kiosk_id: str) -> dict:
    kiosk = current_app.config["KIOSKS"].get(kiosk_id)
    if kiosk is None:
        abort(404)
    return kiosk


@bp.get("/<kiosk_id>")
def start(kiosk_id: str):
    """The idle screen, with the card sign-in on it (one tap to the PIN pad). Showing it
    signs nobody out (a GET may be prefetched or replayed): a session ends by the card
    leaving, the idle time, or a reset (POST). It only marks this browser as the kiosk, so
    that it talks to the kiosk's bridge and keeps the kiosk's idle time."""
    kiosk = kiosk_config(kiosk_id)
    session["kiosk_id"] = kiosk_id
    return render_template("kiosk/start.html", kiosk=kiosk, kiosk_id=kiosk_id,
                           bridge=bridge_url(), purpose="login")


@bp.post("/<kiosk_id>")
def begin(kiosk_id: str):
    """The next resident starts: whoever was here before is signed out, nothing of them
    remains, and this browser is the kiosk for the card sign-in that follows."""
    kiosk_config(kiosk_id)
    if session.get("viewer"):
        sign_out("kiosk_reset")
    session["kiosk_id"] = kiosk_id
    return redirect(url_for("kiosk.start", kiosk_id=kiosk_id))
