"""The domain rules without HTTP: pairwise subjects and the claims each scope releases."""
from __future__ import annotations

from datetime import date

from hypothesis import given, strategies as st

from portal.oidc.services import claims_for, default_sector, pairwise_sub
from portal.registry.models import Resident, Sex


@given(st.integers(min_value=1, max_value=2**31), st.integers(min_value=1, max_value=2**31))
def test_pairwise_sub_is_deterministic_and_separates_residents(a, b):
    secret = b"s" * 32
    assert pairwise_sub(secret, "rp.example", a) == pairwise_sub(secret, "rp.example", a)
    assert (pairwise_sub(secret, "rp.example", a) == pairwise_sub(secret, "rp.example", b)) == (a == b)


def test_pairwise_sub_depends_on_sector_and_deployment_secret():
    base = pairwise_sub(b"one" * 11, "rp.example", 7)
    assert base != pairwise_sub(b"one" * 11, "other.example", 7)
    assert base != pairwise_sub(b"two" * 11, "rp.example", 7)
    assert "7" != base and len(base) == 43


def person(sex=Sex.MALE) -> Resident:
    return Resident(family_name="土佐", given_name="一郎", family_name_kana="トサ",
                    given_name_kana="イチロウ", birth_date=date(1970, 1, 2), sex=sex,
                    address="香美市土佐山田町1番地")


def test_claims_follow_the_scopes_exactly():
    assert claims_for(person(), set()) == {}
    assert claims_for(person(), {"birthdate"}) == {"birthdate": "1970-01-02"}
    assert claims_for(person(), {"address"}) == {
        "address": {"formatted": "香美市土佐山田町1番地", "country": "JP"}}
    profile = claims_for(person(), {"profile"})
    assert profile["gender"] == "male" and profile["given_name#ja-Kana-JP"] == "イチロウ"
    assert "birthdate" not in profile and "address" not in profile


def test_sex_not_applicable_releases_no_gender():
    assert "gender" not in claims_for(person(Sex.NOT_APPLICABLE), {"profile"})


def test_default_sector_is_the_single_redirect_host():
    assert default_sector(["https://a.example/cb", "https://a.example/cb2"]) == "a.example"
