"""Flask extensions; each exposes init_app and keeps no reference to one app."""
from __future__ import annotations

from flask import Flask, current_app, g
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from portal.db import Database

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    app.extensions["madoguchi.db"] = Database(app.config["DATABASE_URL"])
    csrf.init_app(app)


def database() -> Database:
    return current_app.extensions["madoguchi.db"]


def get_db() -> Session:
    """The request's session, scoped to the viewer's municipality (none when signed out)."""
    if "db" not in g:
        viewer = g.get("viewer")
        g.db = database().session(viewer.municipality_id if viewer else None)
    return g.db
