"""Fixtures for the registry import: a city, and its row counts per table (what
"nothing was written" is checked against)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.registry.models import (GuardianLink, Household, Resident, SealRegistration,
                                    TaxRecord)


@pytest.fixture
def city(make_city):
    return make_city()


@pytest.fixture
def counts(db):
    def count(city) -> dict[str, int]:
        with db.transaction(city.id) as s:
            return {model.__tablename__: s.scalar(select(func.count()).select_from(model)
                                                  .where(model.municipality_id == city.id))
                    for model in (Household, Resident, GuardianLink, SealRegistration, TaxRecord)}
    return count
