"""Synthetic residents for demos, tests and benchmarks (架空の住民データ).

Households follow the shapes a Japanese city actually has — single residents young and old,
couples, couples with children, single parents, three generations — with names whose
katakana reading matches the kanji and the person's sex, 続柄 relative to the 世帯主,
guardian links for minors, seals and two fiscal years of tax for adults, and a sprinkling of
moved-out and deceased records, 支援措置 households and 本籍/筆頭者.

Faker is slow per call, so it is asked once for pools of names, towns and buildings; every
choice after that comes from one `random.Random(seed)`, which makes the output a function
of (seed, as_of) alone. The rows come out in the documented CSV columns and are written by
the importer itself, so generated data and imported data pass the same validation.
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable, Iterator

from faker import Faker

from portal.db import Database
from portal.registry.importer import COLUMN_KEYS, COLUMNS, Progress, import_rows

ADULT_AGE = 18
SUPPORT_BLOCK_RATE = 0.003
SEAL_RATE = 0.4
HONSEKI_RATE = 0.3

# Household shapes and their share of households (roughly the national census mix).
SHAPES = (
    ("single_adult", 20), ("single_elder", 14), ("elder_couple", 12), ("couple", 8),
    ("couple_with_children", 26), ("single_parent", 8), ("three_generations", 7),
    ("parent_and_adult_child", 5),
)


@dataclass
class _Pools:
    """What Faker is asked for once; sampled with the generator's own Random after."""
    family: list[tuple[str, str]]
    male: list[tuple[str, str]]
    female: list[tuple[str, str]]
    towns: list[str]
    buildings: list[str]
    places: list[str]  # prefecture + city, for 本籍


def _pools(seed: int) -> _Pools:
    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    # Faker's *_pair methods keep kanji and reading together; sampling them many times
    # keeps Faker's own frequency weighting (佐藤 more often than 石川).
    return _Pools(
        family=[fake.last_name_pair()[:2] for _ in range(2000)],
        male=[fake.first_name_male_pair()[:2] for _ in range(500)],
        female=[fake.first_name_female_pair()[:2] for _ in range(500)],
        towns=sorted({fake.town() for _ in range(400)}),
        buildings=sorted({fake.building_name() for _ in range(100)}),
        places=[fake.prefecture() + fake.city() for _ in range(200)],
    )


@dataclass
class _Person:
    relationship: str
    age: int
    male: bool
    family: tuple[str, str] | None = None  # None: the household's surname
    given: tuple[str, str] | None = None
    guardians: list["_Person"] = field(default_factory=list)
    number: str = ""
    dependent: bool = False  # someone's guardian: stays active so the child has one


class _Generator:
    def __init__(self, municipality_name: str, seed: int, as_of: date, start: int) -> None:
        self.city = municipality_name
        self.rng = random.Random(seed)
        self.pools = _pools(seed)
        self.as_of = as_of
        self.next_resident = start
        self.next_household = start
        self.next_seal = start
        self.fiscal_years = (as_of.year - 1, as_of.year)

    # --- household shapes: each returns its members, the 世帯主 first ---

    def single_adult(self) -> list[_Person]:
        return [_Person("世帯主", self.rng.randint(19, 64), self.rng.random() < 0.55)]

    def single_elder(self) -> list[_Person]:
        return [_Person("世帯主", self._elder_age(), self.rng.random() < 0.35)]

    def elder_couple(self) -> list[_Person]:
        return self._couple(self._elder_age())

    def couple(self) -> list[_Person]:
        return self._couple(self.rng.randint(24, 64))

    def couple_with_children(self) -> list[_Person]:
        members = self._couple(self.rng.randint(26, 56))
        return members + self._children(members, "子", self.rng.choices((1, 2, 3), (35, 45, 20))[0])

    def single_parent(self) -> list[_Person]:
        parent = _Person("世帯主", self.rng.randint(24, 52), self.rng.random() < 0.15)
        return [parent] + self._children([parent], "子", self.rng.choice((1, 1, 2)))

    def three_generations(self) -> list[_Person]:
        members = self._couple(self.rng.randint(58, 80))
        son = _Person("子", members[0].age - self.rng.randint(25, 34), True)
        wife = _Person("子の妻", son.age + self.rng.randint(-4, 3), False)
        return members + [son, wife] + self._children([son, wife], "孫", self.rng.choice((1, 2, 2, 3)))

    def parent_and_adult_child(self) -> list[_Person]:
        child = _Person("世帯主", self.rng.randint(35, 60), self.rng.random() < 0.5)
        parent_age = child.age + self.rng.randint(24, 36)
        return [child, self._elder_parent(parent_age)]

    def _elder_parent(self, age: int) -> _Person:
        male = self.rng.random() < 0.3  # widowed mothers outnumber fathers
        return _Person("父" if male else "母", min(age, 100), male)

    def _couple(self, head_age: int) -> list[_Person]:
        head_male = self.rng.random() < 0.85
        head = _Person("世帯主", head_age, head_male)
        gap = self.rng.randint(-6, 2) if head_male else self.rng.randint(-2, 6)
        spouse_age = min(100, max(18, head_age + gap))
        return [head, _Person("妻" if head_male else "夫", spouse_age, not head_male)]

    def _children(self, parents: list[_Person], relationship: str, count: int) -> list[_Person]:
        mother = next((p for p in parents if not p.male), parents[0])
        oldest = max(0, min(mother.age - 22, 30))
        youngest = max(0, mother.age - 43)
        if oldest < youngest:
            return []
        ages = sorted((self.rng.randint(youngest, oldest) for _ in range(count)), reverse=True)
        children = [_Person(relationship, age, self.rng.random() < 0.51) for age in ages]
        for child in children:
            if child.age < ADULT_AGE:
                child.guardians = list(parents)
                for parent in parents:
                    parent.dependent = True
        return children

    def _elder_age(self) -> int:
        # Fewer people at each older age: an exponential tail from 65, redrawn past 100.
        while (age := 65 + int(self.rng.expovariate(1 / 10))) > 100:
            pass
        return age

    # --- from people to CSV rows ---

    def households(self, residents: int) -> Iterator[dict[str, str]]:
        names, weights = zip(*SHAPES)
        written = 0
        while written < residents:
            members = getattr(self, self.rng.choices(names, weights)[0])()
            members = members[:residents - written]  # the 世帯主 comes first, so it stays
            yield from self._rows(members)
            written += len(members)

    def _rows(self, members: list[_Person]) -> Iterator[dict[str, str]]:
        rng = self.rng
        number = f"SH{self.next_household:08d}"
        self.next_household += 1
        address = self._address()
        family = rng.choice(self.pools.family)
        blocked = rng.random() < SUPPORT_BLOCK_RATE
        honseki = rng.random() < HONSEKI_RATE and f"{rng.choice(self.pools.places)}{rng.randint(1, 3000)}番地"
        for person in members:
            person.number = f"S{self.next_resident:09d}"
            self.next_resident += 1
        for person in members:
            person.given = self.rng.choice(self.pools.male if person.male else self.pools.female)
        head_name = f"{family[0]}\u3000{members[0].given[0]}"
        for person in members:
            yield self._row(person, number, head_name, address, family, blocked,
                            honseki or "", head_name if honseki else "")

    def _row(self, person: _Person, household: str, head_name: str, address: str,
             family: tuple[str, str], blocked: bool, honseki: str, hittosha: str) -> dict[str, str]:
        surname = person.family or family
        status = self._status(person)
        adult_active = person.age >= ADULT_AGE and status == "active"
        return {
            "resident_number": person.number,
            "household_number": household,
            "household_head_name": head_name,
            "household_address": address,
            "family_name": surname[0],
            "given_name": person.given[0],
            "family_name_kana": surname[1],
            "given_name_kana": person.given[1],
            "birth_date": self._birth_date(person.age).isoformat(),
            "sex": "1" if person.male else "2",
            "relationship_to_head": person.relationship,
            "address": address,
            "status": status,
            "move_out_filed": "1" if adult_active and self.rng.random() < 0.005 else "0",
            "support_block": "1" if blocked else "0",
            "honseki": honseki,
            "hittosha": hittosha,
            "guardian_numbers": ";".join(g.number for g in person.guardians),
            **self._seal(person, adult_active),
            **self._taxes(person, adult_active),
        }

    def _status(self, person: _Person) -> str:
        # The 世帯主 and anyone's guardian stay active: every household keeps its head and
        # every minor a guardian on the register.
        if person.relationship == "世帯主" or person.dependent:
            return "active"
        roll = self.rng.random()
        if person.age >= 70 and roll < 0.04:
            return "deceased"
        if person.age >= ADULT_AGE and roll < 0.03:
            return "moved_out"
        return "active"

    def _birth_date(self, age: int) -> date:
        latest = _years_before(self.as_of, age)
        return latest - timedelta(days=self.rng.randint(0, 364))

    def _address(self) -> str:
        rng = self.rng
        street = f"{self.city}{rng.choice(self.pools.towns)}{rng.randint(1, 9)}丁目{rng.randint(1, 30)}番{rng.randint(1, 25)}号"
        if rng.random() < 0.35:  # apartments
            street += f"\u3000{rng.choice(self.pools.buildings)}{self.city[:2]}{rng.randint(1, 5)}{rng.randint(1, 12):02d}号室"
        return street

    def _seal(self, person: _Person, adult_active: bool) -> dict[str, str]:
        if not adult_active or self.rng.random() >= SEAL_RATE:
            return {"seal_number": "", "seal_registered_on": ""}
        number = f"{self.next_seal:08d}"
        self.next_seal += 1
        since = _years_before(self.as_of, person.age - ADULT_AGE)
        registered = since + timedelta(days=self.rng.randint(0, max(0, (self.as_of - since).days)))
        return {"seal_number": number, "seal_registered_on": registered.isoformat()}

    def _taxes(self, person: _Person, adult_active: bool) -> dict[str, str]:
        if not adult_active:
            return {key: "" for key in ("fiscal_year", "total_income", "taxable_income",
                                        "municipal_tax", "prefectural_tax")}
        income = self._income(person)
        years = [_tax(income), _tax(int(income * self.rng.uniform(0.94, 1.08)))]
        columns = list(zip(*years))
        return {
            "fiscal_year": ";".join(map(str, self.fiscal_years)),
            "total_income": ";".join(map(str, columns[0])),
            "taxable_income": ";".join(map(str, columns[1])),
            "municipal_tax": ";".join(map(str, columns[2])),
            "prefectural_tax": ";".join(map(str, columns[3])),
        }

    def _income(self, person: _Person) -> int:
        rng = self.rng
        if person.age < 23 and person.relationship in ("子", "孫"):
            return rng.choice((0, 0, 0, 380_000, 900_000))  # students, part-time work
        if person.age >= 65:
            return int(rng.lognormvariate(14.1, 0.45))  # pensions, ~1.3M yen
        if person.relationship in ("妻", "子の妻") and rng.random() < 0.45:
            return rng.choice((0, 480_000, 1_000_000))
        return int(rng.lognormvariate(15.1, 0.5))  # salaried, ~3.6M yen median


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _tax(total_income: int) -> tuple[int, int, int, int]:
    """Roughly the 住民税 of a year: basic deduction 430,000 yen, 10% income levy split 6%
    municipal / 4% prefectural, the per-capita levy, and no tax under the 450,000 yen
    exemption line. Not an assessment, only plausible numbers."""
    total_income = total_income // 1000 * 1000
    taxable = max(0, total_income - 430_000 - total_income // 10) // 1000 * 1000
    if total_income <= 450_000:
        return total_income, taxable, 0, 0
    return total_income, taxable, taxable * 6 // 100 // 100 * 100 + 3_000, \
        taxable * 4 // 100 // 100 * 100 + 2_000


# --- public API ----------------------------------------------------------------------------

def generate_rows(municipality_name: str, residents: int, seed: int = 0, *,
                  as_of: date | None = None, start: int = 1) -> Iterator[dict[str, str]]:
    """Yield `residents` CSV rows (dicts keyed by the documented English column names).

    The same (seed, as_of) gives the same rows; `as_of` (default today) fixes ages, minors
    and fiscal years. Numbers are S000000001… for residents and SH00000001… for households,
    counting from `start`, so a second batch for the same city needs a later `start`."""
    generator = _Generator(municipality_name, seed, as_of or date.today(), start)
    return generator.households(residents)


def write_csv(path: str | Path, rows: Iterable[dict[str, str]], encoding: str = "utf-8",
              *, japanese_headers: bool = False) -> int:
    """Write rows in the documented columns; returns the number of rows written.

    "utf-8" writes no BOM, "utf-8-sig" writes one (what Excel wants), "cp932" writes
    Shift_JIS as Japanese Excel saves it."""
    header = [c.label for c in COLUMNS] if japanese_headers else list(COLUMN_KEYS)
    count = 0
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(key, "") for key in COLUMN_KEYS])
            count += 1
    return count


def populate(database: Database, municipality, residents: int, seed: int = 0,
             progress: Progress | None = None, *, as_of: date | None = None,
             start: int = 1) -> int:
    """Generate and write `residents` synthetic residents for `municipality` (a
    Municipality); all-or-nothing through the importer. Returns the number written."""
    rows = generate_rows(municipality.name, residents, seed, as_of=as_of, start=start)
    table = ([row[key] for key in COLUMN_KEYS] for row in rows)
    result = import_rows(database, municipality.id, _with_header(table), progress=progress,
                         total=residents)
    return result.residents


def _with_header(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    yield list(COLUMN_KEYS)
    yield from rows
