"""Flask extensions; each exposes init_app and keeps no reference to one app."""
from __future__ import annotations

from flask import Flask, current_app, g
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
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)


def database() -> Database:
    return current_app.extensions["madoguchi.db"]


def get_db() -> Session:
    """The request's session, scoped to the viewer's municipality (none when signed out)."""
    if "db" not in g:
        viewer = g.get("viewer")
        g.db = database().session(viewer.municipality_id if viewer else None)
    return g.db
