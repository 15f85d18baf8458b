"""Catalogue, opening hours and eligibility of convenience-store issuance (コンビニ交付).

Pure domain logic: no Flask, no database session. Everything a city may differ in comes
from `Municipality.settings["convenience_issuance"]` (see `DEFAULT_SETTINGS`):

    {"certificates": {"juminhyo": {"fee": 200, "options": ["household", "relationship",
                                                          "honseki"]}, ...},
     "hours": {"open": "06:30", "close": "23:00"},
     "closed_days": ["12-29", "12-30", "12-31", "01-01", "01-02", "01-03"],
     "maintenance": [{"start": "2026-12-01T00:00", "end": "2026-12-01T06:00"}],
     "tax_years_back": 5}

Times in the settings are Japan time (JST); the server stores UTC naive datetimes.
A certificate type left out of "certificates" is not offered by that city.

Refusals carry an internal `reason` (kept in the issuance log for the city's staff) and a
public code and message (what the terminal shows). Facts about 支援措置 or about other
members of the household are never shown: they all read 「窓口でお問い合わせください」.
"""
from __future__ import annotations

import copy
import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Iterable

from portal.api import JST, to_jst  # noqa: F401  (to_jst: re-exported for the service's modules)



class CertificateType(enum.StrEnum):
    """Certificate kinds this issuance server can produce (戸籍 lives in another system)."""
    JUMINHYO = "juminhyo"                  # 住民票の写し
    JUMINHYO_KISAI = "juminhyo_kisai"      # 住民票記載事項証明書
    INKAN = "inkan"                        # 印鑑登録証明書
    SHOTOKU_KAZEI = "shotoku_kazei"        # 所得・課税証明書


CERTIFICATE_LABELS = {
    CertificateType.JUMINHYO: "住民票の写し",
    CertificateType.JUMINHYO_KISAI: "住民票記載事項証明書",
    CertificateType.INKAN: "印鑑登録証明書",
    CertificateType.SHOTOKU_KAZEI: "所得・課税証明書",
}

# Options a type may allow (the city narrows them in its settings).
#   household    世帯全員 (otherwise the holder only)
#   relationship 世帯主・続柄 printed
#   honseki      本籍・筆頭者 printed
#   fiscal_year  年度 (required for 所得・課税証明書)
OPTIONS_BY_TYPE = {
    CertificateType.JUMINHYO: ("household", "relationship", "honseki"),
    CertificateType.JUMINHYO_KISAI: ("relationship", "honseki"),
    CertificateType.INKAN: (),
    CertificateType.SHOTOKU_KAZEI: ("fiscal_year",),
}

DEFAULT_SETTINGS: dict[str, Any] = {
    "certificates": {
        "juminhyo": {"fee": 200, "options": ["household", "relationship", "honseki"]},
        "juminhyo_kisai": {"fee": 200, "options": ["relationship", "honseki"]},
        "inkan": {"fee": 200, "options": []},
        "shotoku_kazei": {"fee": 200, "options": ["fiscal_year"]},
    },
    "hours": {"open": "06:30", "close": "23:00"},
    "closed_days": ["12-29", "12-30", "12-31", "01-01", "01-02", "01-03"],
    "maintenance": [],
    "tax_years_back": 5,
}

MINIMUM_AGE = 15


class Reason(enum.StrEnum):
    """Why an issuance is refused (internal; staff see it in the issuance log)."""
    UNDER_15 = "under_15"
    NOT_ACTIVE = "not_active"                          # moved out, deceased
    SUPPORT_BLOCK = "support_block"                    # 支援措置 on the holder
    HOUSEHOLD_SUPPORT_BLOCK = "household_support_block"  # 支援措置 on a household member
    MOVE_OUT_FILED = "move_out_filed"                  # the holder filed 転出届
    HOUSEHOLD_MOVE_OUT_FILED = "household_move_out_filed"
    NO_SEAL_REGISTRATION = "no_seal_registration"
    NO_TAX_RECORD = "no_tax_record"
    TYPE_NOT_OFFERED = "type_not_offered"
    OPTION_NOT_ALLOWED = "option_not_allowed"
    OTHER_MUNICIPALITY = "other_municipality"
    SERVICE_NOT_ENABLED = "service_not_enabled"
    OUTSIDE_HOURS = "outside_hours"
    CLOSED_DAY = "closed_day"
    MAINTENANCE = "maintenance"


ASK_AT_COUNTER = "窓口でお問い合わせください"

# Reasons that would disclose a protected fact (the holder's or another person's) all share
# one public code and one message, so the screen cannot tell them apart.
_PROTECTED = {Reason.SUPPORT_BLOCK, Reason.HOUSEHOLD_SUPPORT_BLOCK,
              Reason.HOUSEHOLD_MOVE_OUT_FILED, Reason.NOT_ACTIVE}

PUBLIC_MESSAGES = {
    Reason.UNDER_15: "15歳未満の方はコンビニ交付を利用できません。窓口で申請してください。",
    Reason.MOVE_OUT_FILED: "転出の届出をされているため、コンビニでは交付できません。窓口で申請してください。",
    Reason.NO_SEAL_REGISTRATION: "印鑑登録がないため、印鑑登録証明書は交付できません。",
    Reason.NO_TAX_RECORD: "指定の年度の課税情報がないため、交付できません。",
    Reason.TYPE_NOT_OFFERED: "この証明書はコンビニ交付の対象ではありません。",
    Reason.OPTION_NOT_ALLOWED: "指定された記載事項はコンビニでは選べません。",
    Reason.OTHER_MUNICIPALITY: "この市区町村の証明書は交付できません。住民登録のある市区町村を選んでください。",
    Reason.SERVICE_NOT_ENABLED: "この市区町村はコンビニ交付を行っていません。",
    Reason.OUTSIDE_HOURS: "ただいまの時間は利用できません（利用時間 {open}〜{close}）。",
    Reason.CLOSED_DAY: "年末年始（12月29日〜1月3日）は利用できません。",
    Reason.MAINTENANCE: "システムの保守のため、ただいま利用できません。",
}


@dataclass(frozen=True)
class Refusal:
    """One refusal: the internal reason and what the terminal may show."""
    reason: Reason
    detail: str = ""

    @property
    def public_code(self) -> str:
        return "ask_at_counter" if self.reason in _PROTECTED else self.reason.value

    def public_message(self, hours: "Hours | None" = None) -> str:
        if self.reason in _PROTECTED:
            return ASK_AT_COUNTER
        message = PUBLIC_MESSAGES[self.reason]
        if hours is not None:
            message = message.format(open=hours.open.strftime("%H:%M"),
                                     close=hours.close.strftime("%H:%M"))
        return message


class IssuanceRefused(Exception):
    """Raised by the issuance steps; carries the `Refusal`."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason.value)
        self.refusal = refusal


# -- catalogue ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Offer:
    """One certificate type a city offers: fee in yen and the options it allows."""
    type: CertificateType
    fee: int
    options: tuple[str, ...]

    @property
    def label(self) -> str:
        return CERTIFICATE_LABELS[self.type]


@dataclass(frozen=True)
class Hours:
    open: time
    close: time


@dataclass(frozen=True)
class Catalogue:
    """A city's configuration of convenience issuance (証明書の種類・手数料・利用時間)."""
    offers: dict[CertificateType, Offer]
    hours: Hours
    closed_days: frozenset[tuple[int, int]]
    maintenance: tuple[tuple[datetime, datetime], ...] = field(default_factory=tuple)
    tax_years_back: int = 5

    def offer(self, certificate_type: str) -> Offer:
        try:
            return self.offers[CertificateType(certificate_type)]
        except (ValueError, KeyError):
            raise IssuanceRefused(Refusal(Reason.TYPE_NOT_OFFERED, str(certificate_type)[:40])) from None


def merged_settings(settings: dict | None) -> dict[str, Any]:
    """The city's section over the defaults (a key the city sets replaces the default)."""
    merged = copy.deepcopy(DEFAULT_SETTINGS)
    merged.update((settings or {}).get("convenience_issuance") or {})
    return merged


def load_catalogue(settings: dict | None) -> Catalogue:
    """Build the catalogue from `Municipality.settings`; malformed entries raise ValueError."""
    conf = merged_settings(settings)
    offers = {}
    for key, entry in conf["certificates"].items():
        kind = CertificateType(key)
        allowed = tuple(o for o in entry.get("options", OPTIONS_BY_TYPE[kind])
                        if o in OPTIONS_BY_TYPE[kind])
        fee = int(entry["fee"])
        if fee < 0:
            raise ValueError(f"negative fee for {key}")
        offers[kind] = Offer(kind, fee, allowed)
    hours = Hours(time.fromisoformat(conf["hours"]["open"]), time.fromisoformat(conf["hours"]["close"]))
    closed = frozenset(tuple(int(p) for p in day.split("-")) for day in conf["closed_days"])
    windows = tuple((_jst(w["start"]), _jst(w["end"])) for w in conf["maintenance"])
    return Catalogue(offers, hours, closed, windows, int(conf["tax_years_back"]))


def _jst(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=JST)


# -- opening hours --------------------------------------------------------------------------


def check_open(catalogue: Catalogue, now_utc: datetime) -> None:
    """Raise `IssuanceRefused` when the service is closed at `now_utc`."""
    local = to_jst(now_utc)
    if (local.month, local.day) in catalogue.closed_days:
        raise IssuanceRefused(Refusal(Reason.CLOSED_DAY, local.date().isoformat()))
    for start, end in catalogue.maintenance:
        if start <= local < end:
            raise IssuanceRefused(Refusal(Reason.MAINTENANCE, start.isoformat()))
    if not (catalogue.hours.open <= local.time() < catalogue.hours.close):
        raise IssuanceRefused(Refusal(Reason.OUTSIDE_HOURS, local.strftime("%H:%M")))


# -- eligibility ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    """What eligibility needs of a resident (built from portal Resident rows)."""
    id: int
    birth_date: date
    active: bool
    move_out_filed: bool
    support_block: bool


@dataclass(frozen=True)
class Holdings:
    """What the registry holds for the holder: active seal registration, tax years."""
    has_active_seal: bool = False
    tax_years: frozenset[int] = frozenset()


def age_on(birth: date, day: date) -> int:
    years = day.year - birth.year
    return years - ((day.month, day.day) < (birth.month, birth.day))


def person_refusal(holder: Person, household: Iterable[Person], today: date) -> Refusal | None:
    """Checks about the holder and their household, protected facts first.

    Design rule (世帯単位の支援措置): a 支援措置 on any active member of the holder's household
    blocks every certificate for the whole household, because every certificate carries the
    shared address; likewise a 転出届 filed by any member blocks the household. The block is
    checked before anything else so a protected person never learns another reason either."""
    others = [p for p in household if p.id != holder.id and p.active]
    if holder.support_block:
        return Refusal(Reason.SUPPORT_BLOCK)
    if any(p.support_block for p in others):
        return Refusal(Reason.HOUSEHOLD_SUPPORT_BLOCK)
    if not holder.active:
        return Refusal(Reason.NOT_ACTIVE)
    if age_on(holder.birth_date, today) < MINIMUM_AGE:
        return Refusal(Reason.UNDER_15)
    if holder.move_out_filed:
        return Refusal(Reason.MOVE_OUT_FILED)
    if any(p.move_out_filed for p in others):
        return Refusal(Reason.HOUSEHOLD_MOVE_OUT_FILED)
    return None


def validate_options(offer: Offer, options: dict[str, Any], today: date,
                     years_back: int) -> dict[str, Any]:
    """Normalised options for `offer`; unknown or disallowed options are refused."""
    if not isinstance(options, dict):
        raise IssuanceRefused(Refusal(Reason.OPTION_NOT_ALLOWED, "options is not an object"))
    clean: dict[str, Any] = {}
    for name, value in options.items():
        if name not in offer.options:
            if value in (False, None):
                continue  # asking NOT to print something is always fine
            raise IssuanceRefused(Refusal(Reason.OPTION_NOT_ALLOWED, str(name)[:40]))
        clean[name] = value
    for flag in ("household", "relationship", "honseki"):
        if flag in offer.options:
            clean[flag] = clean.get(flag) is True
    if offer.type == CertificateType.SHOTOKU_KAZEI:
        clean["fiscal_year"] = _fiscal_year(clean.get("fiscal_year"), today, years_back)
    return clean


def current_fiscal_year(today: date) -> int:
    """課税年度: the tax year's certificates switch in June, when the new assessment is out."""
    return today.year if today.month >= 6 else today.year - 1


def _fiscal_year(value: Any, today: date, years_back: int) -> int:
    latest = current_fiscal_year(today)
    if value is None:
        return latest
    if isinstance(value, bool) or not isinstance(value, int):
        raise IssuanceRefused(Refusal(Reason.OPTION_NOT_ALLOWED, "fiscal_year"))
    if not (latest - years_back < value <= latest):
        raise IssuanceRefused(Refusal(Reason.NO_TAX_RECORD, f"year {value} out of range"))
    return value


def type_refusal(offer: Offer, options: dict[str, Any], holdings: Holdings) -> Refusal | None:
    """Checks that depend on the certificate type (印鑑登録, 課税情報)."""
    if offer.type == CertificateType.INKAN and not holdings.has_active_seal:
        return Refusal(Reason.NO_SEAL_REGISTRATION)
    if offer.type == CertificateType.SHOTOKU_KAZEI and options["fiscal_year"] not in holdings.tax_years:
        return Refusal(Reason.NO_TAX_RECORD, str(options["fiscal_year"]))
    return None


def check_eligibility(catalogue: Catalogue, certificate_type: str, options: dict[str, Any],
                      holder: Person, household: Iterable[Person], holdings: Holdings,
                      today: date) -> dict[str, Any]:
    """Every rule in order; returns the normalised options or raises `IssuanceRefused`."""
    refusal = person_refusal(holder, household, today)
    if refusal:
        raise IssuanceRefused(refusal)
    offer = catalogue.offer(certificate_type)
    clean = validate_options(offer, options, today, catalogue.tax_years_back)
    refusal = type_refusal(offer, clean, holdings)
    if refusal:
        raise IssuanceRefused(refusal)
    return clean


def mask_name(family: str, given: str) -> str:
    """Holder name as the verification page shows it: first character of each part."""
    def part(text: str) -> str:
        return text[:1] + "＊" * max(len(text) - 1, 1) if text else "＊"
    return f"{part(family)}\u3000{part(given)}"
