"""Cost apportionment (経費の按分) among the member cities — pure Python, no I/O.

A cost line (an amount in yen) is split by a formula with three weights:

* 均等割 ``equal``      — every member pays the same part;
* 人口割 ``population`` — in proportion to population;
* 利用割 ``usage``      — in proportion to counted use (usage events).

A member's exact share is, with W = equal + population + usage and n members::

    amount × ( equal/W × 1/n  +  population/W × p_i/P  +  usage/W × u_i/U )

computed with exact fractions. When every member's population (or usage) is zero, that
part is split equally instead: nobody used more than anyone else.

**Rounding to the yen (the stated rule).** Each member first gets the floor of its exact
share; the yen left over (fewer than n) go one each to the members with the largest
fractional remainders; equal remainders go to the lower municipality code. So the shares
always add up to the amount exactly, and nobody is more than one yen from the exact share.

**Why a member's share never falls when its population or usage grows** (others unchanged;
the property test checks it): its exact share rises and every other exact share falls or
stays. If its floor rose, it already has at least its old share. Otherwise its remainder
did not fall, every other member whose floor stayed has a remainder that did not rise, and
each yen some other member's floor lost joins the leftover pool — one more leftover yen
for each competitor that could newly rank above it. Before, at most k−1 members ranked
above it among k leftover yen; after, at most (k−1) + d rank above it among k + d.
The tie rule depends on codes only, never on the inputs, so it cannot reverse a ranking.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Mapping, Sequence


class ApportionmentError(ValueError):
    """The inputs cannot be apportioned (no members, negative amounts, no weight…)."""


@dataclass(frozen=True)
class Formula:
    """按分式: the weights of 均等割・人口割・利用割 (non-negative integers, e.g. percent)."""

    equal: int = 0
    population: int = 0
    usage: int = 0

    def __post_init__(self) -> None:
        weights = (self.equal, self.population, self.usage)
        if any(not isinstance(w, int) or w < 0 for w in weights):
            raise ApportionmentError("按分の重みは0以上の整数です")
        if sum(weights) == 0:
            raise ApportionmentError("按分の重みの合計が0です")

    @property
    def total(self) -> int:
        return self.equal + self.population + self.usage

    def describe(self) -> str:
        """Human-readable, e.g. 均等割30%・人口割70%."""
        return "・".join(label % {"percent": percent} for label, percent in self.parts())

    def parts(self) -> list[tuple[str, str]]:
        """(msgid, percent) of each weight in use, for a page to word in its language."""
        parts = []
        for label, weight in ((N_("均等割%(percent)s%%"), self.equal),
                              (N_("人口割%(percent)s%%"), self.population),
                              (N_("利用割%(percent)s%%"), self.usage)):
            if weight:
                percent = Fraction(100 * weight, self.total)
                parts.append((label, str(percent) if percent.denominator == 1 else f"{float(percent):.2f}"))
        return parts


def N_(message: str) -> str:
    """Marks a msgid for extraction (this module knows nothing of Flask)."""
    return message


@dataclass(frozen=True)
class Member:
    """A member city's basis for one cost line: its code, population and usage count."""

    code: str
    population: int
    usage: int = 0

    def __post_init__(self) -> None:
        if self.population < 0 or self.usage < 0:
            raise ApportionmentError(f"{self.code}: 人口・利用量は0以上です")


def exact_shares(amount: int, formula: Formula,
                 members: Sequence[Member]) -> dict[str, Fraction]:
    """Each member's exact (fractional) share in yen, before rounding."""
    _check(amount, members)
    n = len(members)
    population = _proportions([m.population for m in members])
    usage = _proportions([m.usage for m in members])
    shares = {}
    for i, member in enumerate(members):
        part = (Fraction(formula.equal, n) + formula.population * population[i]
                + formula.usage * usage[i])
        shares[member.code] = amount * part / formula.total
    return shares


def split(amount: int, formula: Formula, members: Sequence[Member]) -> dict[str, int]:
    """Split `amount` yen among `members` by `formula`; the shares add up to `amount`."""
    exact = exact_shares(amount, formula, members)
    shares = {code: math.floor(q) for code, q in exact.items()}
    leftover = amount - sum(shares.values())
    # Largest remainder first; equal remainders: the lower municipality code first.
    ranking = sorted(exact, key=lambda code: (-(exact[code] - shares[code]), code))
    for code in ranking[:leftover]:
        shares[code] += 1
    return shares


def _check(amount: int, members: Sequence[Member]) -> None:
    if not isinstance(amount, int) or amount < 0:
        raise ApportionmentError("金額は0円以上の整数（円）です")
    if not members:
        raise ApportionmentError("按分する団体がありません")
    codes = [m.code for m in members]
    if len(set(codes)) != len(codes):
        raise ApportionmentError("同じ団体が重複しています")


def _proportions(values: list[int]) -> list[Fraction]:
    """Each value's part of the total; all equal when the total is zero."""
    total = sum(values)
    if total == 0:
        return [Fraction(1, len(values))] * len(values)
    return [Fraction(v, total) for v in values]


# --- Several lines over several years -------------------------------------------------


@dataclass(frozen=True)
class CostItem:
    """One cost line (費目) of one fiscal year (年度), amount in yen, with its formula.

    `usage_metric` picks which usage counts for the usage share (see `select_usage`)."""

    fiscal_year: int
    category: str          # build, operation, data_centre, shared_change
    label: str
    amount: int
    formula: Formula
    usage_metric: str = "*"


@dataclass(frozen=True)
class Basis:
    """A member's stored basis for one fiscal year: population and usage by metric key
    ("service:metric", e.g. "core:sign_in")."""

    code: str
    name: str
    population: int
    usage: Mapping[str, int] = field(default_factory=dict)


# Gauges, not uses: a monthly snapshot of rows held is no count of things done, and summed
# over a year it would outweigh every sign-in. Only an exact selector picks them.
GAUGE_METRICS = ("storage_rows",)


def select_usage(usage: Mapping[str, int], selector: str) -> int:
    """Sum usage whose key matches `selector`: "*" all, "medication:*" a prefix, else exact;
    the wildcards leave gauges (storage snapshots) out."""
    if selector in ("", "*"):
        return sum(v for k, v in usage.items() if not _is_gauge(k))
    if selector.endswith("*"):
        prefix = selector[:-1]
        return sum(v for k, v in usage.items() if k.startswith(prefix) and not _is_gauge(k))
    return usage.get(selector, 0)


def _is_gauge(key: str) -> bool:
    return key.rsplit(":", 1)[-1] in GAUGE_METRICS


@dataclass(frozen=True)
class LineShares:
    item: CostItem
    shares: dict[str, int]


def apportion(items: Iterable[CostItem],
              basis_by_year: Mapping[int, Sequence[Basis]]) -> list[LineShares]:
    """Split every cost line among the members of its year, from the stored basis."""
    results = []
    for item in items:
        basis = basis_by_year.get(item.fiscal_year)
        if not basis:
            raise ApportionmentError(f"{item.fiscal_year}年度の按分基礎（人口・利用量）がありません")
        members = [Member(b.code, b.population, select_usage(b.usage, item.usage_metric))
                   for b in basis]
        results.append(LineShares(item, split(item.amount, item.formula, members)))
    return results


def totals_by(results: Iterable[LineShares], key=lambda item: item.category
              ) -> dict[str, dict[str, int]]:
    """Sum shares by `key(item)` (default: category) → {key: {code: yen}}."""
    out: dict[str, dict[str, int]] = {}
    for result in results:
        bucket = out.setdefault(key(result.item), {})
        for code, yen in result.shares.items():
            bucket[code] = bucket.get(code, 0) + yen
    return out
