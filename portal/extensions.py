"""Flask extensions; each exposes init_app and keeps no reference to one app."""
from __future__ import annotations

from flask import Flask, current_app, has_request_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from portal.db import Database

csrf = CSRFProtect()
# Limits only where declared (authentication, verification); storage from RATELIMIT_STORAGE_URI
# (memory:// by default, redis://… when several workers must share counts).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def init_app(app: Flask) -> None:
    app.extensions["madoguchi.db"] = Database(app.config["DATABASE_URL"])
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("RATE_LIMIT_STORAGE", "memory://"))
    # No X-RateLimit-* headers: working them out cost every limited answer (each card
    # login) two more round trips to the shared store, and no client of ours reads them.
    # A refusal still says when to come back: Retry-After (portal.web.errors).
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)


def database() -> Database:
    return current_app.extensions["madoguchi.db"]


def get_db() -> Session:
    """The request's one session, scoped to the viewer's municipality (none when signed
    out). The framework commits it after the view; views never commit."""
    return current_unit().session


def current_unit():
    """The request's unit of work (see portal.unit_of_work), begun on first use."""
    from portal.web.app import request_unit
    if not has_request_context():
        raise RuntimeError("get_db() outside a request: use portal.unit_of_work.unit_of_work()")
    return request_unit(database())


def db_for(municipality_id: int | None) -> Session:
    """The request's one session, scoped from here on to `municipality_id` (or to none): a
    card login or a terminal learns the city from the card, not from a signed-in viewer."""
    work = current_unit()
    work.scope_to(municipality_id)
    return work.session
