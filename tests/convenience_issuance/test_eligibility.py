"""Eligibility (交付可否): one row per rule, and protected facts never reach the screen."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from services.convenience_issuance.services import (
    ASK_AT_COUNTER, DEFAULT_SETTINGS, Holdings, IssuanceRefused, Person, Reason,
    check_eligibility, check_open, load_catalogue, mask_name)

TODAY = date(2026, 7, 1)
CATALOGUE = load_catalogue({})
ADULT = dict(id=1, birth_date=date(1990, 4, 1), active=True, move_out_filed=False,
             support_block=False)


def person(**changes) -> Person:
    return Person(**{**ADULT, **changes})


def member(**changes) -> Person:
    return Person(**{**ADULT, "id": 2, "birth_date": date(1992, 1, 1), **changes})


EVERYTHING = Holdings(has_active_seal=True, tax_years=frozenset({2025, 2026}))

# (case, certificate, options, holder, household members, holdings, reason or None)
TABLE = [
    ("adult gets 住民票", "juminhyo", {}, person(), [], EVERYTHING, None),
    ("15th birthday today", "juminhyo", {}, person(birth_date=date(2011, 7, 1)), [], EVERYTHING, None),
    ("one day short of 15", "juminhyo", {}, person(birth_date=date(2011, 7, 2)), [], EVERYTHING, Reason.UNDER_15),
    ("moved out", "juminhyo", {}, person(active=False), [], EVERYTHING, Reason.NOT_ACTIVE),
    ("支援措置 on the holder", "juminhyo", {}, person(support_block=True), [], EVERYTHING, Reason.SUPPORT_BLOCK),
    ("支援措置 on a household member", "inkan", {}, person(), [member(support_block=True)], EVERYTHING,
     Reason.HOUSEHOLD_SUPPORT_BLOCK),
    ("支援措置 wins over under 15", "juminhyo", {}, person(support_block=True, birth_date=date(2015, 1, 1)),
     [], Holdings(), Reason.SUPPORT_BLOCK),
    ("支援措置 of a member wins over no seal", "inkan", {}, person(), [member(support_block=True)],
     Holdings(), Reason.HOUSEHOLD_SUPPORT_BLOCK),
    ("blocked member who left does not count", "juminhyo", {}, person(),
     [member(support_block=True, active=False)], EVERYTHING, None),
    ("move-out filed by holder", "juminhyo", {}, person(move_out_filed=True), [], EVERYTHING,
     Reason.MOVE_OUT_FILED),
    ("move-out filed by a member", "juminhyo", {}, person(), [member(move_out_filed=True)], EVERYTHING,
     Reason.HOUSEHOLD_MOVE_OUT_FILED),
    ("印鑑証明 with a seal", "inkan", {}, person(), [], EVERYTHING, None),
    ("印鑑証明 without an active seal", "inkan", {}, person(), [], Holdings(tax_years=frozenset({2026})),
     Reason.NO_SEAL_REGISTRATION),
    ("課税証明 of a year on record", "shotoku_kazei", {"fiscal_year": 2025}, person(), [], EVERYTHING, None),
    ("課税証明 of a year not on record", "shotoku_kazei", {"fiscal_year": 2024}, person(), [], EVERYTHING,
     Reason.NO_TAX_RECORD),
    ("課税証明 of a year too old", "shotoku_kazei", {"fiscal_year": 2010}, person(), [], EVERYTHING,
     Reason.NO_TAX_RECORD),
    ("課税証明 defaults to the current year", "shotoku_kazei", {}, person(), [], Holdings(tax_years=frozenset({2025})),
     Reason.NO_TAX_RECORD),
    ("戸籍 is not offered", "koseki", {}, person(), [], EVERYTHING, Reason.TYPE_NOT_OFFERED),
    ("unknown option", "juminhyo", {"my_number": True}, person(), [], EVERYTHING, Reason.OPTION_NOT_ALLOWED),
    ("household option on 記載事項証明書", "juminhyo_kisai", {"household": True}, person(), [], EVERYTHING,
     Reason.OPTION_NOT_ALLOWED),
    ("fiscal year not a number", "shotoku_kazei", {"fiscal_year": "2025"}, person(), [], EVERYTHING,
     Reason.OPTION_NOT_ALLOWED),
]


@pytest.mark.parametrize("case, kind, options, holder, household, holdings, reason", TABLE,
                         ids=[row[0] for row in TABLE])
def test_eligibility_table(case, kind, options, holder, household, holdings, reason):
    if reason is None:
        clean = check_eligibility(CATALOGUE, kind, options, holder, household, holdings, TODAY)
        assert isinstance(clean, dict)
        return
    with pytest.raises(IssuanceRefused) as refused:
        check_eligibility(CATALOGUE, kind, options, holder, household, holdings, TODAY)
    assert refused.value.refusal.reason == reason


@pytest.mark.parametrize("reason", [Reason.SUPPORT_BLOCK, Reason.HOUSEHOLD_SUPPORT_BLOCK,
                                    Reason.HOUSEHOLD_MOVE_OUT_FILED, Reason.NOT_ACTIVE])
def test_protected_facts_read_only_ask_at_counter(reason):
    from services.convenience_issuance.services import Refusal
    refusal = Refusal(reason, "detail that must stay inside")
    assert refusal.public_message() == ASK_AT_COUNTER
    assert refusal.public_code == "ask_at_counter"


def test_every_other_reason_has_its_own_message():
    from services.convenience_issuance.services import Refusal
    shown = {Refusal(r).public_code for r in Reason} - {"ask_at_counter"}
    assert len(shown) == len(Reason) - 4
    assert all(Refusal(r).public_message() for r in Reason)


def test_city_chooses_types_and_fees():
    settings = {"convenience_issuance": {"certificates": {"juminhyo": {"fee": 150, "options": ["relationship"]}}}}
    catalogue = load_catalogue(settings)
    assert [o.type.value for o in catalogue.offers.values()] == ["juminhyo"]
    assert catalogue.offers["juminhyo"].fee == 150
    with pytest.raises(IssuanceRefused) as refused:
        check_eligibility(catalogue, "inkan", {}, person(), [], EVERYTHING, TODAY)
    assert refused.value.refusal.reason == Reason.TYPE_NOT_OFFERED
    with pytest.raises(IssuanceRefused) as refused:
        check_eligibility(catalogue, "juminhyo", {"household": True}, person(), [], EVERYTHING, TODAY)
    assert refused.value.refusal.reason == Reason.OPTION_NOT_ALLOWED


def utc(jst_text: str) -> datetime:
    """JST wall time → the UTC naive datetime the server keeps."""
    from datetime import timedelta
    return datetime.fromisoformat(jst_text) - timedelta(hours=9)


@pytest.mark.parametrize("jst, reason", [
    ("2026-07-01T06:29", Reason.OUTSIDE_HOURS),
    ("2026-07-01T06:30", None),
    ("2026-07-01T22:59", None),
    ("2026-07-01T23:00", Reason.OUTSIDE_HOURS),
    ("2026-12-28T12:00", None),
    ("2026-12-29T12:00", Reason.CLOSED_DAY),
    ("2027-01-03T12:00", Reason.CLOSED_DAY),
    ("2027-01-04T06:30", None),
    ("2026-08-10T02:00", Reason.OUTSIDE_HOURS),
    ("2026-08-10T07:00", Reason.MAINTENANCE),
    ("2026-08-10T09:00", None),
])
def test_hours_closed_days_and_maintenance(jst, reason):
    settings = {"convenience_issuance": {"maintenance": [
        {"start": "2026-08-10T06:00", "end": "2026-08-10T09:00"}]}}
    catalogue = load_catalogue(settings)
    if reason is None:
        check_open(catalogue, utc(jst))
        return
    with pytest.raises(IssuanceRefused) as refused:
        check_open(catalogue, utc(jst))
    assert refused.value.refusal.reason == reason


def test_outside_hours_message_names_the_hours():
    from services.convenience_issuance.services import Refusal
    catalogue = load_catalogue({})
    text = Refusal(Reason.OUTSIDE_HOURS).public_message(catalogue.hours)
    assert "06:30" in text and "23:00" in text


def test_defaults_offer_the_four_types():
    assert set(DEFAULT_SETTINGS["certificates"]) == {"juminhyo", "juminhyo_kisai", "inkan", "shotoku_kazei"}


@pytest.mark.parametrize("family, given, masked", [
    ("高知", "花子", "高＊\u3000花＊"), ("林", "一", "林＊\u3000一＊"), ("長宗我部", "元親", "長＊＊＊\u3000元＊")])
def test_masked_name(family, given, masked):
    assert mask_name(family, given) == masked
