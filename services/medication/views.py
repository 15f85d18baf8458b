from __future__ import annotations

from flask import Blueprint, render_template

from portal.auth import signed_in_required

bp = Blueprint("medication", __name__, template_folder="templates")


@bp.get("/")
@signed_in_required
def index():
    return render_template("medication/index.html")
