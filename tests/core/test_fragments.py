"""The keys of kept fragments (portal.web.fragments): equal exactly when the rows are."""
from datetime import date
from decimal import Decimal

import pytest

from portal.db import Read
from portal.registry.models import Resident, ResidentRead, Sex
from portal.web.fragments import frozen


def visit(**changes):
    drug = Read({"id": 7, "name": "ノルバスク錠5mg", "dose": Decimal("1"), "code": "2171022F1022"})
    rp = Read({"id": 3, "rp_number": 1}, drugs=[drug], usage=Read({"id": 4, "days": 14}))
    columns = {"id": 1, "dispensed_on": date(2026, 11, 2), "pharmacy_name": "はりまや薬局"}
    columns.update(changes)
    return Read(columns, rps=[rp], notes=[])


def test_the_same_rows_read_twice_give_the_same_key():
    assert frozen({"visits": [visit()]}) == frozen({"visits": [visit()]})
    assert hash(frozen({"visits": [visit()]})) == hash(frozen({"visits": [visit()]}))


@pytest.mark.parametrize("other", [
    {"visits": [visit(pharmacy_name="はりまや薬局 本店")]},        # a column of the row
    {"visits": [visit(dispensed_on=date(2026, 11, 3))]},
    {"visits": [visit(), visit(id=2)]},                             # a row more
    {"visits": []},
    {"visits": [visit()], "staff": True},                           # another input
])
def test_anything_changed_gives_another_key(other):
    assert frozen({"visits": [visit()]}) != frozen(other)


def test_a_change_deep_inside_gives_another_key():
    changed = visit()
    changed.rps[0].drugs[0].name = "ノルバスク錠2.5mg"
    assert frozen({"visits": [visit()]}) != frozen({"visits": [changed]})
    changed = visit()
    changed.rps[0].usage.days = 7
    assert frozen({"visits": [visit()]}) != frozen({"visits": [changed]})


def test_rows_of_another_kind_with_the_same_columns_differ():
    columns = {"id": 1, "family_name": "高知"}
    assert frozen(Read(dict(columns))) != frozen(ResidentRead(dict(columns)))
    assert frozen(ResidentRead({"id": 1, "sex": Sex.FEMALE})) != frozen(
        ResidentRead({"id": 1, "sex": Sex.MALE}))


def test_an_orm_object_cannot_be_a_key():
    """It hashes by identity: a key that no later request finds, or that stays the same
    while the object changes."""
    with pytest.raises(TypeError):
        frozen({"child": Resident(family_name="高知")})
    with pytest.raises(TypeError):
        frozen([object()])


def test_a_kept_fragment_refuses_a_csrf_token(app, monkeypatch):
    """A form's token in a kept fragment would be served to the next reader: refused,
    where a page rendered for its own request has one."""
    from flask import render_template_string
    from portal.web.fragments import Fragment
    form = "<input name=csrf_token value='{{ csrf_token() }}'>"
    monkeypatch.setattr(app.jinja_env, "get_template",
                        lambda name: app.jinja_env.from_string(form))
    with app.test_request_context("/"):
        assert "value='" in render_template_string(form)
        with pytest.raises(RuntimeError):
            Fragment("a form").render({"n": 1}, lambda: {})
