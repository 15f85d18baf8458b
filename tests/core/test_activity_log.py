"""The resident's やりとり履歴: sentences in the resident's words (no stored codes such as
`maternal_health.checkup`), Japan time, and a guardian sees her children's entries, staff
writes included. The English page has no Japanese left but names."""
from __future__ import annotations

import re
from datetime import datetime

from portal.audit.models import AccessLogEntry
from portal.registry.models import GuardianLink

STAFF_WRITE = datetime(2026, 1, 1, 15, 30)     # UTC: 2026-01-02 00:30 in Japan


def test_a_guardian_reads_the_nurse_updating_her_childs_record(db, client, sign_in_as,
                                                              make_city, make_resident, make_staff):
    city = make_city()
    mother = make_resident(city, family="土佐", given="花子")
    child = make_resident(city, family="土佐", given="一郎", birth=datetime(2024, 5, 1).date(),
                          household=mother.household_id, relationship="子")
    nurse = make_staff(city, roles=["health_staff"], username="nurse")
    with db.transaction(city.id) as s:
        s.add(GuardianLink(guardian_id=mother.id, child_id=child.id))
        s.add(AccessLogEntry(occurred_at=STAFF_WRITE, actor_type="staff", actor_id=nurse.id,
                             actor_name=nurse.display_name, actor_role="health_staff",
                             subject_resident_id=child.id, action="write",
                             resource="maternal_health.checkup", purpose="母子健康手帳の記録（職員）"))
    sign_in_as(mother)
    client.get("/me/")                                   # her own entry, written by herself
    page = client.get("/me/access-log/").get_data(as_text=True)
    assert "<h1>やりとり履歴</h1>" in page
    assert "母子健康手帳のお子さんの健診の記録を保健師（職員 nurse）が更新しました" in page
    assert "2026-01-02 00:30" in page and "UTC" not in page
    assert "住民記録をあなたが見ました" in page
    assert "土佐\u3000一郎" in page                       # whose record
    assert not re.search(r"maternal_health\.|registry\.resident", page)


def test_the_english_log_reads_as_english(db, client, sign_in_as, make_city, make_resident):
    city = make_city()
    person = make_resident(city, family="土佐", given="花子")
    sign_in_as(person)
    client.get("/me/")
    client.get("/lang/en", headers={"Referer": "https://localhost/me/access-log/"})
    page = client.get("/me/access-log/").get_data(as_text=True)
    assert "Activity log" in page and "You viewed the resident record" in page
    main = page[page.index("<main"):page.index("</main>")]
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", main.replace("土佐\u3000花子", ""))


def test_a_protected_page_says_sign_in_is_required(client):
    for path, lands_on in (("/me/access-log/", "/auth/login"),
                           ("/services/maternal_health/", "/"),
                           ("/staff/", "/staff/login")):
        response = client.get(path, follow_redirects=True)
        body = response.get_data(as_text=True)
        assert response.request.path == lands_on, path
        assert "このページを見るにはログインが必要です" in body, path
    home = client.get("/?next=/services/maternal_health/").get_data(as_text=True)
    assert "/auth/login?next=/services/maternal_health/" in home
