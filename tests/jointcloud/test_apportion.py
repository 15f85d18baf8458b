"""Apportionment (按分): the shares add up to the yen, follow the formula, and never fall
for a member whose population or usage grows while the others stay."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from portal.jointcloud.apportion import (ApportionmentError, Basis, CostItem, Formula,
                                         Member, apportion, exact_shares, select_usage, split,
                                         totals_by)

amounts = st.integers(min_value=0, max_value=10**11)
weights = st.tuples(st.integers(0, 100), st.integers(0, 100), st.integers(0, 100)).filter(
    lambda w: sum(w) > 0).map(lambda w: Formula(*w))


@st.composite
def member_lists(draw, min_size=1, max_size=8):
    size = draw(st.integers(min_size, max_size))
    codes = draw(st.lists(st.integers(100000, 999999).map(str), min_size=size,
                          max_size=size, unique=True))
    return [Member(code, draw(st.integers(0, 5_000_000)), draw(st.integers(0, 10**7)))
            for code in codes]


@settings(deadline=None)
@given(amounts, weights, member_lists())
def test_shares_add_up_to_the_amount_exactly(amount, formula, members):
    shares = split(amount, formula, members)
    assert sum(shares.values()) == amount
    assert set(shares) == {m.code for m in members}


@settings(deadline=None)
@given(amounts, weights, member_lists())
def test_every_share_is_within_one_yen_of_the_exact_share(amount, formula, members):
    exact = exact_shares(amount, formula, members)
    for code, yen in split(amount, formula, members).items():
        assert math.floor(exact[code]) <= yen <= math.ceil(exact[code])


@settings(max_examples=400, deadline=None)
@given(amounts, weights, member_lists(), st.data())
def test_share_never_falls_when_population_grows(amount, formula, members, data):
    i = data.draw(st.integers(0, len(members) - 1))
    growth = data.draw(st.integers(1, 5_000_000))
    grown = list(members)
    grown[i] = Member(members[i].code, members[i].population + growth, members[i].usage)
    code = members[i].code
    assert split(amount, formula, grown)[code] >= split(amount, formula, members)[code]


@settings(max_examples=400, deadline=None)
@given(amounts, weights, member_lists(), st.data())
def test_share_never_falls_when_usage_grows(amount, formula, members, data):
    i = data.draw(st.integers(0, len(members) - 1))
    growth = data.draw(st.integers(1, 10**7))
    grown = list(members)
    grown[i] = Member(members[i].code, members[i].population, members[i].usage + growth)
    code = members[i].code
    assert split(amount, formula, grown)[code] >= split(amount, formula, members)[code]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 1000), weights, member_lists(min_size=2, max_size=6), st.data())
def test_monotone_on_small_amounts_where_remainders_decide(amount, formula, members, data):
    """Small amounts and small populations make the leftover yen decide most shares."""
    small = [Member(m.code, m.population % 7, m.usage % 5) for m in members]
    i = data.draw(st.integers(0, len(small) - 1))
    grown = list(small)
    grown[i] = Member(small[i].code, small[i].population + data.draw(st.integers(0, 3)),
                      small[i].usage + data.draw(st.integers(0, 3)))
    code = small[i].code
    assert split(amount, formula, grown)[code] >= split(amount, formula, small)[code]


@settings(deadline=None)
@given(amounts, member_lists())
def test_all_weight_on_equal_splits_evenly(amount, members):
    shares = split(amount, Formula(equal=1), members)
    assert max(shares.values()) - min(shares.values()) <= 1
    # Leftover yen go to the lowest codes, one each.
    ordered = [shares[c] for c in sorted(shares)]
    assert ordered == sorted(ordered, reverse=True)


@settings(deadline=None)
@given(amounts, member_lists(min_size=2))
def test_all_weight_on_population_follows_population(amount, members):
    assume(sum(m.population for m in members) > 0)
    shares = split(amount, Formula(population=1), members)
    total = sum(m.population for m in members)
    for m in members:
        assert abs(shares[m.code] - Fraction(amount * m.population, total)) < 1
        if m.population == 0:
            assert shares[m.code] == 0


@settings(deadline=None)
@given(amounts, member_lists(min_size=2))
def test_all_weight_on_usage_follows_usage(amount, members):
    assume(sum(m.usage for m in members) > 0)
    shares = split(amount, Formula(usage=1), members)
    for m in members:
        if m.usage == 0:
            assert shares[m.code] == 0


@settings(deadline=None)
@given(amounts, weights, member_lists(min_size=2))
def test_zero_usage_everywhere_means_usage_part_is_split_equally(amount, formula, members):
    idle = [Member(m.code, m.population, 0) for m in members]
    as_equal = Formula(equal=formula.equal + formula.usage, population=formula.population)
    assert split(amount, formula, idle) == split(amount, as_equal, idle)


@settings(deadline=None)
@given(amounts, weights, st.integers(0, 10**6), st.integers(0, 10**6))
def test_one_city_pays_everything(amount, formula, population, usage):
    assert split(amount, formula, [Member("392049", population, usage)]) == {"392049": amount}


def test_tie_goes_to_the_lower_code():
    members = [Member("392120", 1), Member("392049", 1), Member("392111", 1)]
    assert split(100, Formula(equal=1), members) == {"392049": 34, "392111": 33, "392120": 33}


def test_stated_example_by_hand():
    # 1,000,000 yen, 均等割30%・人口割70%, populations 2:1:1.
    members = [Member("392049", 200), Member("392111", 100), Member("392120", 100)]
    # exact: 100000 + 350000 = 450000; 100000 + 175000 = 275000 each for the others.
    assert split(1_000_000, Formula(30, 70), members) == {
        "392049": 450_000, "392111": 275_000, "392120": 275_000}


@pytest.mark.parametrize("bad", [
    lambda: Formula(0, 0, 0), lambda: Formula(-1, 2, 0),
    lambda: split(-1, Formula(1), [Member("392049", 1)]),
    lambda: split(10, Formula(1), []),
    lambda: split(10, Formula(1), [Member("392049", 1), Member("392049", 2)]),
    lambda: Member("392049", -5),
])
def test_bad_inputs_are_refused(bad):
    with pytest.raises(ApportionmentError):
        bad()


def test_select_usage_by_exact_key_prefix_and_all():
    usage = {"core:sign_in": 10, "medication:record_written": 3, "medication:sign_in": 2}
    assert select_usage(usage, "*") == 15
    assert select_usage(usage, "medication:*") == 5
    assert select_usage(usage, "core:sign_in") == 10
    assert select_usage(usage, "nothing") == 0


def test_storage_snapshots_are_no_usage_unless_asked_for_by_name():
    usage = {"core:sign_in": 10, "core:storage_rows": 90_000, "medication:storage_rows": 5_000,
             "medication:record_written": 5}
    assert select_usage(usage, "*") == 15
    assert select_usage(usage, "medication:*") == 5
    assert select_usage(usage, "core:storage_rows") == 90_000


def test_apportion_lines_over_years_and_totals_by_category():
    basis = {2024: [Basis("392049", "南国市", 3, {"core:sign_in": 1}),
                    Basis("392111", "香南市", 1, {"core:sign_in": 3})]}
    items = [CostItem(2024, "build", "構築", 400, Formula(population=1)),
             CostItem(2024, "operation", "運用", 400, Formula(usage=1), "core:sign_in"),
             CostItem(2024, "operation", "DC", 101, Formula(equal=1))]
    totals = totals_by(apportion(items, basis))
    assert totals == {"build": {"392049": 300, "392111": 100},
                      "operation": {"392049": 100 + 51, "392111": 300 + 50}}
    with pytest.raises(ApportionmentError):
        apportion([CostItem(2030, "build", "x", 1, Formula(1))], basis)


def test_formula_describes_itself_in_percent():
    assert Formula(30, 70).describe() == "均等割30%・人口割70%"
    assert Formula(1, 1, 1).describe() == "均等割33.33%・人口割33.33%・利用割33.33%"
