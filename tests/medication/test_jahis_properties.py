"""Properties of the JAHIS reader and writer over generated input."""
from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.medication.jahis import parse, parse_fragments, records as r, split_for_qr, write

# Characters that CP932 encodes and decodes to themselves, minus the format's separators.
_SAFE = ("abcdefgXYZ0123456789 .-()/%【】「」・ー　，"
         "あいうえおかきくけこやゆよわをんアイウエオカキクケコ"
         "ｱｲｳｴｵｶﾞﾊﾟﾝﾛｷｿﾆ錠散剤薬局病院医師内科朝昼夕食後分日高知南国市香美")
TEXT = st.text(alphabet=_SAFE, max_size=12)
REQUIRED_TEXT = TEXT.filter(lambda s: s.strip() != "")
DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
_KIND_STRATEGIES = {
    r.ALNUM: st.from_regex(r"[0-9A-Z]{0,12}", fullmatch=True),
    r.DIGITS: st.from_regex(r"[0-9]{0,7}", fullmatch=True),
    r.DECIMAL: st.from_regex(r"([0-9]{1,3}(\.[0-9]{1,3})?)?", fullmatch=True),
}


def fields_of(cls) -> dict:
    strategies = {}
    for spec in cls.FIELDS:
        if spec.kind == r.DATE:
            strategies[spec.attr] = DATES if spec.required else st.none() | DATES
        elif spec.kind == r.TEXT:
            strategies[spec.attr] = REQUIRED_TEXT if spec.required else TEXT
        elif spec.required:
            strategies[spec.attr] = st.from_regex(r"[0-9]{1,7}", fullmatch=True)
        else:
            strategies[spec.attr] = _KIND_STRATEGIES[spec.kind]
    return strategies


def record(cls, **children):
    return st.builds(cls, **fields_of(cls), **children)


def small_list(strategy, max_size=2):
    return st.lists(strategy, max_size=max_size)


drugs = record(r.Drug, supplements=small_list(record(r.DrugSupplement)),
               cautions=small_list(record(r.DrugCaution)))


@st.composite
def rp_lists(draw):
    numbers = draw(st.lists(st.integers(1, 30), unique=True, max_size=3))
    return [r.Rp(n, drugs=draw(st.lists(drugs, min_size=1, max_size=2)),
                 usage=draw(st.none() | record(r.Usage)),
                 usage_supplements=draw(small_list(record(r.UsageSupplement))),
                 cautions=draw(small_list(record(r.PrescriptionCaution)))) for n in numbers]


unknowns = st.builds(r.UnknownRecord, number=st.integers(1000, 9999).map(str),
                     fields=st.lists(TEXT, max_size=3).map(tuple))
visits = record(
    r.Visit, pharmacy=st.none() | record(r.DispensingInstitution),
    pharmacists=small_list(record(r.Pharmacist)),
    prescriber=st.none() | record(r.PrescribingInstitution), rps_without_doctor=rp_lists(),
    doctors=small_list(record(r.PrescribingDoctor, rps=rp_lists())),
    cautions=small_list(record(r.VisitCaution)),
    institution_notes=small_list(record(r.InstitutionNote)),
    leftover_notes=small_list(record(r.LeftoverNote)), remarks=small_list(record(r.Remark)),
    patient_entries=small_list(record(r.PatientEntry)), unknown=small_list(unknowns, 1))


def _otc_with_ingredients(otc: r.OtcDrug) -> r.OtcDrug:
    for ingredient in otc.ingredients:
        ingredient.otc_serial = otc.serial  # an ingredient names its drug's serial
    return otc


documents = st.builds(
    r.Document, version=st.sampled_from([f"{n:02d}" for n in range(1, 9)]),
    output_kind=st.sampled_from(["1", "2"]), patient=st.none() | record(r.PatientRecord),
    notes=small_list(record(r.PatientNote)),
    otc_drugs=small_list(record(r.OtcDrug, ingredients=small_list(record(r.OtcIngredient)))
                         .map(_otc_with_ingredients)),
    memos=small_list(record(r.NotebookMemo)),
    family_pharmacists=small_list(record(r.FamilyPharmacist), 1),
    patient_entries=small_list(record(r.PatientEntry), 1), unknown=small_list(unknowns, 1),
    visits=small_list(visits, 2))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_random_bytes_never_crash_the_reader(data):
    result = parse(data)
    assert isinstance(result.document, r.Document)
    assert all(d.severity in ("error", "warning") for d in result.diagnostics)
    assert all(str(d) for d in result.diagnostics)  # every message formats


@settings(max_examples=200)
@given(st.lists(st.sampled_from(["JAHISTC08,1", "5,R020410,1", "201,1,ｱ,1", "911,1,2,1",
                                 "911,2,x,9", "301,x", "55", ",,,", "31,9", "281,1,a",
                                 "JAHISTC99,3", "2,1,", "5,H999999"]), max_size=12))
def test_random_record_soup_never_crashes(lines):
    result = parse("\n".join(lines).encode("cp932"))
    assert isinstance(result.document, r.Document)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_parse_of_write_is_identity(document):
    result = parse(write(document))
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.document == document


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.randoms(use_true_random=False))
def test_split_parts_in_any_order_give_back_the_document(document, rnd):
    parts = split_for_qr(document, max_bytes=400)
    rnd.shuffle(parts)
    assert parse(b"".join(parts)).document == document


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.lists(st.integers(1, 10_000), max_size=4))
def test_raw_fragments_cut_anywhere_join_back(document, cuts):
    raw = write(document)
    points = sorted({c % max(len(raw), 1) for c in cuts} - {0})
    fragments = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)])]
    assert parse_fragments(fragments).document == document
