"""Every read of a resident's record is logged, the resident sees it, nobody can alter it."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from portal.audit.models import AccessLogEntry
from portal.audit.services import AccessLogImmutable
from portal.db import scoped


def entries(db, city, resident):
    with db.transaction(city.id) as s:
        return s.scalars(scoped(AccessLogEntry, AccessLogEntry.subject_resident_id == resident.id)
                         .order_by(AccessLogEntry.id)).all()


def test_staff_read_is_logged_and_shown_to_the_resident(db, client, sign_in_as, make_city,
                                                          make_resident, make_staff):
    city = make_city()
    person = make_resident(city, family="土佐", given="一郎")
    clerk = make_staff(city, roles=["registry_clerk"], username="clerk")
    sign_in_as(clerk)
    assert client.get(f"/registry/residents/{person.id}").status_code == 200
    [entry] = entries(db, city, person)
    assert (entry.actor_type, entry.actor_id, entry.action) == ("staff", clerk.id, "read")
    assert entry.actor_role == "registry_clerk" and entry.purpose
    sign_in_as(person)
    page = client.get("/me/access-log/").get_data(as_text=True)
    assert "職員 clerk" in page and "住民記録の確認" in page


def test_a_search_listing_is_logged_for_each_person_listed(db, client, sign_in_as, make_city,
                                                           make_resident, make_staff):
    city = make_city()
    ichiro = make_resident(city, family="土佐", given="一郎")
    jiro = make_resident(city, family="土佐", given="次郎")
    other = make_resident(city, family="高知", given="三郎")
    sign_in_as(make_staff(city, roles=["registry_clerk"], username="clerk"))
    assert "土佐" in client.get("/registry/residents", query_string={"q": "土佐"}).get_data(as_text=True)
    for person in (ichiro, jiro):
        [entry] = entries(db, city, person)
        assert (entry.action, entry.resource) == ("search", "registry.search")
    assert entries(db, city, other) == []
    sign_in_as(ichiro)
    page = client.get("/me/access-log/").get_data(as_text=True)
    assert "検索結果に表示" in page and "住民検索（職員）" in page


def test_household_read_logs_every_member(db, client, sign_in_as, make_city, make_resident,
                                          make_staff):
    city = make_city()
    head = make_resident(city)
    spouse = make_resident(city, given="次郎", household=head.household_id, relationship="夫")
    sign_in_as(make_staff(city, roles=["registry_clerk"]))
    assert client.get(f"/registry/households/{head.household_id}").status_code == 200
    assert len(entries(db, city, head)) == 1 and len(entries(db, city, spouse)) == 1


def test_residents_own_read_is_logged_too(db, client, sign_in_as, make_city, make_resident):
    city = make_city()
    person = make_resident(city)
    sign_in_as(person)
    client.get("/me/")
    assert [e.actor_type for e in entries(db, city, person)] == ["resident"]


def test_a_resident_sees_only_their_own_log(db, client, sign_in_as, make_city, make_resident,
                                            make_staff):
    city = make_city()
    me, neighbour = make_resident(city, given="花子"), make_resident(city, given="秘密子")
    sign_in_as(make_staff(city, roles=["registry_clerk"], username="clerk"))
    client.get(f"/registry/residents/{neighbour.id}")
    sign_in_as(me)
    page = client.get("/me/access-log/").get_data(as_text=True)
    assert "記録はまだありません" in page


def test_application_cannot_update_or_delete(db, client, sign_in_as, make_city, make_resident):
    city = make_city()
    person = make_resident(city)
    sign_in_as(person)
    client.get("/me/")
    with pytest.raises(AccessLogImmutable):
        with db.transaction(city.id) as s:
            s.scalar(scoped(AccessLogEntry)).purpose = "rewritten"
    with pytest.raises(AccessLogImmutable):
        with db.transaction(city.id) as s:
            s.delete(s.scalar(scoped(AccessLogEntry)))
    assert entries(db, city, person)[0].purpose != "rewritten"


@pytest.mark.parametrize("statement", ["UPDATE access_log SET purpose = 'x'",
                                       "DELETE FROM access_log"])
def test_database_refuses_raw_changes(db, client, sign_in_as, make_city, make_resident, statement):
    city = make_city()
    person = make_resident(city)
    sign_in_as(person)
    client.get("/me/")
    with pytest.raises(DatabaseError, match="append-only"):
        with db.transaction(city.id) as s:
            s.execute(text(statement))
    assert len(entries(db, city, person)) == 1


def test_read_fails_when_the_log_cannot_be_written(app, client, sign_in_as, make_city,
                                                   make_resident, monkeypatch):
    """No log entry, no record: the view must not show data it could not log."""
    import portal.residents.views as views
    city = make_city()
    person = make_resident(city, address="見せない町1番地")
    sign_in_as(person)

    def broken(*args, **kwargs):
        raise RuntimeError("log store down")
    monkeypatch.setattr(views, "log_access", broken)
    response = client.get("/me/")
    assert response.status_code == 500
    assert "見せない町" not in response.get_data(as_text=True)


def test_staff_holding_every_role_is_logged_too(db, client, sign_in_as, make_city,
                                                make_resident, make_staff):
    """Their role list (74 characters) once overflowed the log's 64-character column:
    PostgreSQL refused the entry and the view failed. It is written whole now."""
    from portal.staff.models import Role
    city = make_city()
    person = make_resident(city)
    everyone = make_staff(city, roles=[r.value for r in Role], username="all_roles")
    sign_in_as(everyone)
    assert client.get(f"/registry/residents/{person.id}").status_code == 200
    [entry] = entries(db, city, person)
    assert entry.actor_id == everyone.id
    assert sorted(entry.actor_role.split(",")) == sorted(r.value for r in Role)


def test_purposes_with_a_partner_name_are_shown_in_english(db, client, sign_in_as, make_city,
                                                           make_resident):
    """A purpose stored with a value filled in is matched back to its template."""
    from datetime import datetime

    from portal.oidc.server import CONSENT_PURPOSE, LOGIN_PURPOSE
    city = make_city()
    person = make_resident(city)
    with db.transaction(city.id) as s:
        for purpose in (LOGIN_PURPOSE % {"client": "子育て応援アプリ"},
                        CONSENT_PURPOSE % {"client": "子育て応援アプリ", "scopes": "openid profile"}):
            s.add(AccessLogEntry(occurred_at=datetime(2025, 6, 1), actor_type="system",
                                 actor_name="system", actor_role="system",
                                 subject_resident_id=person.id, action="export",
                                 resource="oidc.app", purpose=purpose))
    sign_in_as(person)
    english = client.get("/me/access-log/?lang=en").get_data(as_text=True)
    assert "Sign-in information provided to 子育て応援アプリ" in english
    assert "Consented to share information with 子育て応援アプリ (openid profile)" in english
    japanese = client.get("/me/access-log/?lang=ja").get_data(as_text=True)
    assert "子育て応援アプリへのログイン情報の提供" in japanese


def test_a_partners_refresh_names_the_partner_in_both_languages(db, client, sign_in_as, make_city,
                                                                make_resident):
    from datetime import datetime

    from portal.oidc.server import REFRESH_PURPOSE
    city = make_city()
    person = make_resident(city)
    with db.transaction(city.id) as s:
        s.add(AccessLogEntry(occurred_at=datetime(2025, 6, 1), actor_type="partner", actor_id=1,
                             actor_name="子育て応援アプリ", actor_role="partner",
                             subject_resident_id=person.id, action="export", resource="oidc.app",
                             purpose=REFRESH_PURPOSE % {"client": "子育て応援アプリ"}))
    sign_in_as(person)
    english = client.get("/me/access-log/?lang=en").get_data(as_text=True)
    assert "Continued provision to 子育て応援アプリ" in english
    assert "the partner service “子育て応援アプリ”" in english
    japanese = client.get("/me/access-log/?lang=ja").get_data(as_text=True)
    assert "連携先サービス「子育て応援アプリ」" in japanese and "窓口のシステム" not in japanese


def test_a_resident_with_the_longest_name_is_logged(db, client, sign_in_as, make_city,
                                                    make_resident):
    """Family and given names of 32 characters each: 65 with the space between, which the
    log's actor name once could not hold on PostgreSQL (the page failed)."""
    city = make_city()
    person = make_resident(city, family="長" * 32, given="名" * 32)
    sign_in_as(person)
    assert client.get("/me/").status_code == 200
    [entry] = entries(db, city, person)
    assert len(entry.actor_name) == 65


def test_a_listing_keeps_every_character_and_the_order_listed(db, make_city, make_resident):
    """A listing's entries, each person once in the order listed, with whatever the names
    hold: COPY's own markers (tab, newline, backslash, \\N for NULL) are text like any other."""
    from portal.audit.services import log_listing
    from portal.unit_of_work import Actor, unit_of_work
    city = make_city()
    first, second, third = (make_resident(city, given=g) for g in ("一郎", "次郎", "三郎"))
    actor = Actor("system", None, "夜間\t処理\\N\n「一括」", "system\\role")
    with unit_of_work(db, city.id, actor) as s:
        log_listing(s, [second.id, first.id, second.id, third.id], "registry.batch",
                    "照合\t（夜間）\\")
    with db.transaction(city.id) as s:
        logged = s.scalars(scoped(AccessLogEntry, AccessLogEntry.resource == "registry.batch")
                           .order_by(AccessLogEntry.id)).all()
    assert [e.subject_resident_id for e in logged] == [second.id, first.id, third.id]
    for entry in logged:
        assert (entry.actor_type, entry.actor_id, entry.actor_name, entry.actor_role) == (
            "system", None, "夜間\t処理\\N\n「一括」", "system\\role")
        assert (entry.action, entry.purpose, entry.request_path) == ("search", "照合\t（夜間）\\", "")


def test_an_entry_naming_no_resident_fails_the_unit_of_work(db, make_city, make_resident):
    """The log's write is checked like any statement: a wrong subject is SQLAlchemy's
    IntegrityError, and nothing of the unit of work is written."""
    from sqlalchemy.exc import IntegrityError
    from portal.audit.services import log_access
    from portal.unit_of_work import unit_of_work
    city = make_city()
    person = make_resident(city)
    with pytest.raises(IntegrityError):
        with unit_of_work(db, city.id) as s:
            log_access(s, person.id, "read", "registry.batch", "照合")
            log_access(s, person.id + 1000, "read", "registry.batch", "照合")
    assert entries(db, city, person) == []
