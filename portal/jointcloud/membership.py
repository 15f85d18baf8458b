"""Admitting a member city (参加): one command and one configuration file."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.db import ALL_MUNICIPALITIES
from portal.jointcloud.config import (ConfigInvalid, EDITABLE_IDENTITY, change, validate_settings)
from portal.tenancy.models import Municipality
from portal.tenancy.services import InvalidMunicipalityCode, add_municipality


def join(db: Session, document: dict, *, actor_name: str, known_services=None,
         source: str = "join") -> Municipality:
    """Add the city a configuration document describes; its first history entry says
    who admitted it. Raises ConfigInvalid (with every problem) and adds nothing then."""
    identity = document["municipality"]
    settings = validate_settings(document.get("settings", {}), known_services)
    if not identity.get("name"):
        raise ConfigInvalid(["団体名 name がありません"])
    try:
        city = add_municipality(db, identity["code"], identity["name"], settings={})
    except (InvalidMunicipalityCode, ValueError) as exc:
        raise ConfigInvalid([str(exc)]) from None
    # The history row belongs to the new city; this session writes it on purpose, and only
    # it: the cross-city write guard is back on for whatever the session writes next.
    db.info[ALL_MUNICIPALITIES] = True
    try:
        change(db, city, {k: identity[k] for k in EDITABLE_IDENTITY if k in identity}, settings,
               actor_name=actor_name, actor_role="cloud_operator", source=source,
               note="参加")
        db.flush()
    finally:
        db.info.pop(ALL_MUNICIPALITIES, None)
    return city
