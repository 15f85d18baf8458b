"""The worked example: 南国市・香南市・香美市 (高知県物部川流域) and Nankoku's 5-year
comparison from the seed (a 2017 presentation by 南国市).

What the seed states (万円, 5-year costs of 南国市, 「5年経費における効果【南国市】」):

    初期（更改）費用  単独 18,522 → クラウド 8,440  (△10,082)
    運用費用          単独 17,676 → クラウド 11,088 (△6,588)
    合計              単独 36,198 → クラウド 19,528 (△16,670)

What the seed does NOT state, and is therefore assumed here (say so whenever quoting):

* The group's totals. The 「クラウド」 column is Nankoku's own share; the slides give
  neither the group's total nor the other cities' shares.
* The formula. We assume 均等割30%・人口割70% for every line, a common form for joint
  procurements; no usage share (2012 had no usage metering).
* The years. Joint procurement was timed to the 住基法 revision of July 2012 (平成24年), so
  the build falls in FY2012 and operation in the five fiscal years 2012–2016, in equal
  annual amounts.
* The populations: 平成27年国勢調査 (2015 census) — 南国市 47,982, 香南市 32,961,
  香美市 27,513 (総務省統計局; the seed itself says only 「合計10万人強」).

The group totals are then *derived*: the smallest yen amount whose Nankoku share under the
formula is exactly the seed's figure (`derive_group_total`). The report built from these
inputs reproduces Nankoku's figures exactly; the other cities' shares are illustrative.
"""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.jointcloud.apportion import Formula, Member, exact_shares, split
from portal.jointcloud.models import (ApportionmentBasis, CostLine, StandaloneEstimate)

SOURCE_POPULATION = "平成27年国勢調査（総務省統計局）"
SOURCE_SEED = "南国市「自治体クラウドの取り組み」(2017) 5年経費における効果【南国市】"

CITIES = (("392049", "南国市", 47_982), ("392111", "香南市", 32_961), ("392120", "香美市", 27_513))
NANKOKU = "392049"
FORMULA = Formula(equal=30, population=70)
BUILD_YEAR = 2012
OPERATION_YEARS = tuple(range(2012, 2017))

# Nankoku's figures from the seed, in yen.
STANDALONE = {"build": 185_220_000, "operation": 176_760_000}
SHARED = {"build": 84_400_000, "operation": 110_880_000}


def members() -> list[Member]:
    return [Member(code, population) for code, _name, population in CITIES]


def derive_group_total(target: int, formula: Formula, members: list[Member], code: str) -> int:
    """The smallest amount whose share for `code` is exactly `target` yen."""
    fraction = exact_shares(10**12, formula, members)[code] / 10**12
    amount = max(0, int(target / fraction) - 10)
    for candidate in range(amount, amount + 1000):
        if split(candidate, formula, members)[code] == target:
            return candidate
    raise ValueError("no amount gives that share")


def group_totals() -> dict[str, int]:
    """Derived group totals: the build, and one year's operation."""
    years = len(OPERATION_YEARS)
    return {"build": derive_group_total(SHARED["build"], FORMULA, members(), NANKOKU),
            "operation": derive_group_total(SHARED["operation"] // years, FORMULA, members(),
                                            NANKOKU)}


def load(db: Session, replace: bool = False) -> None:
    """Store the example's cost lines, basis and Nankoku's standalone estimates."""
    if replace:
        for model in (CostLine, StandaloneEstimate):
            db.execute(delete(model))
        db.execute(delete(ApportionmentBasis).where(
            ApportionmentBasis.fiscal_year.in_({BUILD_YEAR, *OPERATION_YEARS})))
    elif db.scalar(select(CostLine.id).limit(1)) is not None:
        raise ValueError("費目が既に登録されています（--replace で置き換え）")
    totals = group_totals()
    weights = dict(weight_equal=FORMULA.equal, weight_population=FORMULA.population,
                   weight_usage=FORMULA.usage, usage_metric="*", created_by="example")
    note = "群の総額は南国市の負担額から逆算した仮定値（docs/joint-cloud.md）"
    db.add(CostLine(fiscal_year=BUILD_YEAR, category="build", label="住民情報系システム構築（共同調達）",
                    amount_yen=totals["build"], note=note, **weights))
    for year in OPERATION_YEARS:
        db.add(CostLine(fiscal_year=year, category="operation",
                        label="運用・保守・データセンター利用料", amount_yen=totals["operation"],
                        note=note, **weights))
    for year in sorted({BUILD_YEAR, *OPERATION_YEARS}):
        for code, name, population in CITIES:
            db.add(ApportionmentBasis(fiscal_year=year, city_code=code, city_name=name,
                                      population=population, usage={}, source=SOURCE_POPULATION))
    db.add(StandaloneEstimate(city_code=NANKOKU, category="build", first_year=BUILD_YEAR,
                              last_year=BUILD_YEAR, amount_yen=STANDALONE["build"],
                              source=SOURCE_SEED))
    db.add(StandaloneEstimate(city_code=NANKOKU, category="operation",
                              first_year=OPERATION_YEARS[0], last_year=OPERATION_YEARS[-1],
                              amount_yen=STANDALONE["operation"], source=SOURCE_SEED))
    db.flush()
