"""Nobody of city X can read anything of city Y, through any route.

The walk enumerates the app's whole URL map, so a route added later is walked too. Every
path parameter is filled with identifiers that belong to city Y — of the right kind: a
record id is the id of one of Y's records of that kind (each record type in turn), a
certificate id one of Y's issued certificates, a resident id each of Y's people — and
every viewer of city X (a resident, each staff role alone and all of them together)
requests every route with every method it accepts, posting form data that would change
Y's records if a scope were missing. City Y's
people carry names, kana and addresses that appear nowhere else, and its service records
(handbook, medication notebook, issued certificate) carry markers of their own, so any leak
shows; after the walk Y's records are as they were."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from portal.audit.models import AccessLogEntry
from portal.staff.models import Role
from services.convenience_issuance import issuance
from services.convenience_issuance.models import IssuanceRequest, IssuedCertificate, Payment
from services.maternal_health import models as mh
from services.maternal_health.services import RECORD_TYPES
from services.medication import jahis
from services.medication import models as med
from services.medication import services as medication

SECRET_MARKERS = ("秘匿", "ヒトク", "隠岐谷", "機密町")
# Markers carried only by city Y's service records (not by its people's names).
RECORD_MARKERS = ("秘密産科医院", "秘密こども園", "SECRET-LOT-77", "秘密薬局", "ヒミツプロフェン")
# What a form posts: every id of Y, and values that would pass the handbook forms, the
# revocation form and the like, so a POST missing its scope would really write.
FORM_VALUES = {"reason": "isolation walk", "occasion": "m1", "checked_on": "2024-06-05",
               "weight_kg": "4.2", "vaccine": "bcg", "dose_number": "1", "given_on": "2024-10-01",
               "notified_on": "2023-09-01", "gestational_weeks": "20", "days_after_birth": "20",
               "born_on": "2024-05-01"}

Y_NOTEBOOK = """JAHISTC08,1
1,秘匿 隠岐谷,2,19900401,,,,,,,
5,20250301,1
11,秘密薬局,39,4,0499999,,,,1
15,薬剤師 秘子,,1
51,香南中央病院,39,1,0123456,1
55,香南 一郎,内科,1
201,1,ヒミツプロフェン錠60mg,1,錠,2,620098801,1,,,
301,1,1日3回毎食後,14,日分,1,1,,1
"""


@pytest.fixture
def two_cities(db, make_city, make_resident, make_staff):
    x, y = make_city("392049", "南国市"), make_city("392111", "香南市")
    y_parent = make_resident(y, family="秘匿", given="隠岐谷", family_kana="ヒトク",
                             given_kana="オキタニ", address="香南市機密町1番地")
    y_child = make_resident(y, family="秘匿", given="太郎", family_kana="ヒトク",
                            given_kana="タロウ", birth=date(2024, 5, 1), address="香南市機密町1番地",
                            household=y_parent.household_id, relationship="子")
    y_staff = make_staff(y, roles=[r.value for r in Role], username="y_admin")
    records = seed_handbook(db, y, y_parent, y_child)
    notebook = seed_notebook(db, y, y_parent)
    certificate = seed_certificate(db, y, y_parent)
    viewers = [make_resident(x, family="南国", given="住民")]
    viewers += [make_staff(x, roles=[role.value], username=f"x_{role.value}") for role in Role]
    viewers.append(make_staff(x, roles=[role.value for role in Role], username="x_every_role"))
    ids = {"resident_id": y_parent.id, "household_id": y_parent.household_id,
           "child_id": y_child.id, "staff_id": y_staff.id, "code": y.code,
           "certificate_id": certificate.id, "request_id": certificate.request_id,
           "document_id": notebook["document_id"], "visit_id": notebook["visit_id"]}
    return {"x_viewers": viewers, "y": y, "y_staff": y_staff, "y_ids": ids,
            "people": (y_parent.id, y_child.id), "records": records,
            "certificate": certificate,
            "markers": SECRET_MARKERS + RECORD_MARKERS + (certificate.issuance_number,
                                                           certificate.holder_masked_name)}


def seed_handbook(db, city, mother, child) -> list[tuple[str, int, int]]:
    """One record of every handbook type: (kind, record id, whose record)."""
    entered = {"entered_by_name": "香南 保健師", "entered_at": datetime(2024, 6, 5)}
    with db.transaction(city.id) as s:
        pregnancy = mh.Pregnancy(mother_id=mother.id, notified_on=date(2023, 9, 1), **entered)
        s.add(pregnancy)
        s.flush()
        rows = [
            mh.PrenatalCheckup(pregnancy_id=pregnancy.id, mother_id=mother.id,
                               checked_on=date(2023, 12, 1), gestational_weeks=20,
                               facility="秘密産科医院", **entered),
            mh.BirthRecord(mother_id=mother.id, child_id=child.id, pregnancy_id=pregnancy.id,
                           born_on=date(2024, 5, 1), gestational_weeks=39, weight_kg=3.1,
                           place="秘密産科医院", **entered),
            mh.PostpartumCheck(mother_id=mother.id, checked_on=date(2024, 6, 1),
                               days_after_birth=31, weight_kg=55.0, **entered),
            mh.ChildCheckup(child_id=child.id, occasion="m1", checked_on=date(2024, 6, 3),
                            weight_kg=4.3, facility="秘密こども園", **entered),
            mh.Immunisation(child_id=child.id, vaccine="bcg", dose_number=1,
                            given_on=date(2024, 9, 2), lot="SECRET-LOT-77",
                            facility="秘密こども園", **entered),
        ]
        s.add_all(rows)
        s.flush()
        kinds = {rt.model: key for key, rt in RECORD_TYPES.items()}
        out = [("pregnancy", pregnancy.id, mother.id)]
        for row in rows:
            kind = kinds[type(row)]
            out.append((kind, row.id, getattr(row, RECORD_TYPES[kind].subject)))
    assert {kind for kind, _, _ in out} == set(RECORD_TYPES)
    return out


def seed_notebook(db, city, person) -> dict:
    """A medication notebook import (お薬手帳) for one of Y's people."""
    parsed = jahis.parse(Y_NOTEBOOK)
    assert parsed.ok, parsed.errors
    with db.transaction(city.id) as s:
        outcome = medication.import_document(s, person.id, parsed.document, "text", "test")
        visit = s.scalar(select(med.MedicationVisit).where(
            med.MedicationVisit.document_id == outcome.document.id))
        return {"document_id": outcome.document.id, "visit_id": visit.id}


def seed_certificate(db, city, person) -> IssuedCertificate:
    """A 住民票の写し issued at a store to one of Y's people, paid and printed."""
    now = datetime(2026, 7, 1, 1, 0)
    with db.transaction(city.id) as s:
        request = IssuanceRequest(
            resident_id=person.id, token_hash=issuance.hash_token("y-terminal-token"),
            terminal_id="y-store", state=issuance.RequestState.QUOTED,
            certificate_type="juminhyo", options={}, fee=200, created_at=now, updated_at=now,
            expires_at=now + issuance.REQUEST_LIFETIME)
        s.add(request)
        s.flush()
        outcome = issuance.confirm_payment(s, request.id, "y-isolation-key", 200, now,
                                           (person.family_name, person.given_name))
        issuance.report_outcome(s, s.get(IssuanceRequest, request.id), True, "", now)
        s.expunge(outcome.certificate)
        return outcome.certificate


def paths(rule, y) -> list[str] | None:
    """Every path of `rule` filled with city Y's identifiers of the right kind: a route of a
    handbook record kind once per record type with that type's record (and its subject), a
    route about a resident once per person of Y, other ids by name (certificate_id, …),
    any other id a resident's. None when the rule cannot be built."""
    if "kind" in rule.arguments:
        combos = [{"kind": kind, "record_id": record_id, "resident_id": subject}
                  for kind, record_id, subject in y["records"]]
    elif "resident_id" in rule.arguments:
        combos = [{"resident_id": person} for person in y["people"]]
    else:
        combos = [{}]
    ids, out = y["y_ids"], []
    for combo in combos:
        values = {}
        for arg in rule.arguments:
            if arg in combo:
                values[arg] = combo[arg]
            elif arg in ids:
                values[arg] = ids[arg]
            elif arg.endswith("_id") or arg == "id":
                values[arg] = ids["resident_id"]
            else:
                values[arg] = ids["code"]
        try:
            out.append(rule.build(values, append_unknown=False)[1])
        except Exception:
            return None
    return out


def snapshot(db, y) -> dict:
    """What a write through a missing scope would change in city Y."""
    with db.transaction(y["y"].id) as s:
        counts = {model.__tablename__: s.scalar(select(func.count()).select_from(model))
                  for model in (mh.Pregnancy, mh.PrenatalCheckup, mh.BirthRecord,
                                mh.PostpartumCheck, mh.ChildCheckup, mh.Immunisation,
                                mh.Amendment, med.MedicationDocument, med.MedicationVisit,
                                IssuanceRequest, Payment, IssuedCertificate)}
        checkup = s.scalar(select(mh.ChildCheckup))
        certificate = s.get(IssuedCertificate, y["certificate"].id)
        return {**counts, "checkup": (checkup.checked_on, checkup.weight_kg),
                "revoked": certificate.revoked_at}


def test_every_route_keeps_city_y_away_from_city_x(app, client, db, sign_in_as, two_cities):
    app.config["WTF_CSRF_ENABLED"] = False  # let POSTs reach their views
    y = two_cities
    before = snapshot(db, y)
    form = {**FORM_VALUES, **y["y_ids"]}
    # Every search (registry, handbook, notebook, certificates) asks for Y's certificate by
    # its verification code: pages echo the query, so the code itself is no marker, but the
    # certificate's issuance number and masked holder name are.
    query = {"q": y["certificate"].verification_code}
    walked = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        built = paths(rule, y)
        assert built, f"cannot build {rule.rule}"
        for path in built:
            for viewer in y["x_viewers"]:
                sign_in_as(viewer)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    response = client.open(path, method=method, data=form, query_string=query)
                    body = response.get_data().decode("utf-8", errors="replace")
                    leaked = [m for m in y["markers"] if m in body]
                    assert not leaked, f"{method} {path} as {viewer} shows {leaked}"
                    # A PDF, image or CSV about one of city Y's people or records cannot be
                    # searched for the markers; it must not be served at all.
                    if any(a.endswith("_id") for a in rule.arguments) and response.status_code < 300:
                        kind = response.mimetype or ""
                        assert kind in ("text/html", "application/json"), \
                            f"{method} {path} as {viewer} served {kind}"
                    assert response.status_code != 500, f"{method} {path} failed"
                    walked.add(rule.endpoint)
    endpoints = {r.endpoint for r in app.url_map.iter_rules()} - {"static"}
    assert walked == endpoints
    # The walk must include the routes that would leak if scoping broke.
    assert {"registry.resident", "registry.household", "audit.my_log", "maternal_health.amend",
            "convenience_issuance.staff_revoke", "medication.timeline"} <= walked
    assert snapshot(db, y) == before, "a request of city X changed city Y's records"


def test_same_routes_do_show_city_y_to_city_y(app, client, sign_in_as, two_cities, make_staff):
    """The markers are visible to city Y's own staff, so the walk above can see a leak."""
    clerk = make_staff(two_cities["y"], roles=["registry_clerk"], username="y_clerk")
    sign_in_as(clerk)
    body = client.get(f"/registry/residents/{two_cities['y_ids']['resident_id']}").get_data(as_text=True)
    assert "秘匿" in body and "機密町" in body
    sign_in_as(two_cities["y_staff"])   # every role of city Y
    seen = ""
    for kind, record_id, _subject in two_cities["records"]:
        response = client.get(f"/services/maternal_health/staff/records/{kind}/{record_id}/amend")
        assert response.status_code == 200, kind
        seen += response.get_data(as_text=True)
    parent = two_cities["y_ids"]["resident_id"]
    seen += client.get(f"/services/medication/people/{parent}/").get_data(as_text=True)
    certificate = two_cities["certificate"]
    seen += client.get("/services/convenience_issuance/staff/certificates",
                       query_string={"q": certificate.verification_code}).get_data(as_text=True)
    for marker in RECORD_MARKERS + (certificate.issuance_number, certificate.holder_masked_name):
        assert marker in seen, marker


# Pages that show a person's name and nothing of their records, like the notebook index:
# the form to import into someone's notebook names whose it is.
NAME_ONLY = {"medication.import_document"}


def test_every_page_showing_a_person_logs_the_read(app, client, db, sign_in_as, two_cities):
    """Walk every GET route as city Y's staff holding every role, searching for the family
    name: a page that shows anything of a person of Y added an access-log entry about them."""
    y = two_cities
    sign_in_as(y["y_staff"])

    def entries() -> int:
        with db.transaction(y["y"].id) as s:
            return s.scalar(select(func.count()).select_from(AccessLogEntry).where(
                AccessLogEntry.subject_resident_id.in_(y["people"])))

    unlogged, showing = [], set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        for path in paths(rule, y):
            before = entries()
            body = client.get(path, query_string={"q": "秘匿"}).get_data().decode("utf-8", "replace")
            # the query itself is echoed by search pages: it is no sign of a person shown
            shown = [m for m in SECRET_MARKERS + RECORD_MARKERS if m in body and m != "秘匿"]
            if shown:
                showing.add(rule.endpoint)
                if entries() == before and rule.endpoint not in NAME_ONLY:
                    unlogged.append(f"{path} shows {shown}")
    assert unlogged == []
    # the walk did reach the pages that show people: searches, records, notebooks
    assert {"registry.search", "registry.resident", "medication.staff_search",
            "medication.timeline", "maternal_health.staff_resident"} <= showing
