"""Blueprint of the convenience_issuance service and the resident's own page.

Routes are split by audience: `views_api` (the store terminal's JSON API, card token and
bearer token, no browser session), `views_public` (verification page, reference terminal),
`views_staff` (issuance log, reconciliation, revocation)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, render_template

from portal.api import Municipality, current_viewer, get_db, log_access, scoped, signed_in_required
from services.convenience_issuance.services import CERTIFICATE_LABELS, load_catalogue

bp = Blueprint("convenience_issuance", __name__, template_folder="templates",
               static_folder="static", static_url_path="/static")


def clock() -> datetime:
    """Now, UTC naive. Tests and the bench install another clock in app.extensions."""
    custom = current_app.extensions.get("convenience_issuance.clock")
    return custom() if custom else datetime.now(timezone.utc).replace(tzinfo=None)


@bp.get("/")
@signed_in_required
def index():
    """What this city offers at stores; a resident also sees certificates issued to them."""
    from services.convenience_issuance.models import IssuedCertificate
    viewer = current_viewer()
    db = get_db()
    municipality = db.get(Municipality, viewer.municipality_id)
    catalogue = load_catalogue(municipality.settings)
    issued = []
    if viewer.is_resident:
        issued = db.scalars(scoped(IssuedCertificate, IssuedCertificate.resident_id == viewer.id)
                            .order_by(IssuedCertificate.issued_at.desc()).limit(20)).all()
        log_access(db, viewer.id, "read", "convenience_issuance.certificates", "交付履歴の確認（本人）")
    return render_template("convenience_issuance/index.html", catalogue=catalogue,
                           municipality=municipality, issued=issued,
                           labels={k.value: v for k, v in CERTIFICATE_LABELS.items()})


from services.convenience_issuance import views_api, views_public, views_staff  # noqa: E402,F401
