"""No input reaches a 5xx: JSON bodies are bounded in size and depth on every endpoint,
and generated JSON and form bodies posted to every endpoint of the URL map, signed out and
signed in as a resident and as staff, are answered 2xx, 3xx or 4xx — never 5xx."""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.cards.conftest import csrf_token

API = "/services/convenience_issuance/api/v1"
DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"certificate":' * 5000 + "1" + "}" * 5000
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def post_json(client, path, raw: str, csrf: str | None = None):
    headers = {"X-CSRFToken": csrf} if csrf else {}
    return client.post(path, data=raw, content_type="application/json", headers=headers)


@pytest.mark.parametrize("raw", [DEEP, DEEP_OBJECT], ids=["array", "object"])
def test_deeply_nested_json_to_the_card_login_is_refused_plainly(client, raw):
    """The rate-limit key of /auth/card parsed the body first and hit RecursionError."""
    csrf = csrf_token(client)
    for path in ("/auth/card", "/auth/enroll"):
        response = post_json(client, path, raw, csrf)
        assert response.status_code in (400, 413), (path, response.status_code)
        assert response.get_json()["error"] in ("MalformedToken", "TokenTooLarge")
    for path in ("/auth/challenge", "/auth/logout"):   # no body needed: read as none
        assert post_json(client, path, raw, csrf).status_code == 200, path


@pytest.mark.parametrize("raw", [DEEP, DEEP_OBJECT], ids=["array", "object"])
def test_deeply_nested_json_to_the_terminal_api_is_a_problem(client, make_city, raw):
    make_city()
    for path in (f"{API}/sessions", f"{API}/sessions/challenge"):
        response = post_json(client, path, raw)
        assert response.status_code == 400, (path, response.status_code)
        assert set(response.get_json()) >= {"error", "message"}


def test_a_json_body_over_the_limit_is_413_and_a_nul_is_400(client, make_city):
    make_city()
    big = json.dumps({"terminal_id": "x" * (300 * 1024)})
    assert post_json(client, f"{API}/sessions/challenge", big).status_code == 413
    nul = json.dumps({"municipality": "392049", "terminal_id": "t\u0000"})
    assert post_json(client, f"{API}/sessions/challenge", nul).status_code == 400


def test_a_nul_in_a_form_or_query_is_400(client):
    assert client.get("/?q=a%00b").status_code == 400
    response = client.post("/staff/login", data={"csrf_token": "x", "username": "a\x00"})
    assert response.status_code == 400


def test_a_list_where_an_object_belongs_is_no_500(client):
    """Read as a body naming nothing (the defaults), not as a crash on list.get."""
    csrf = csrf_token(client)
    assert post_json(client, "/auth/challenge", "[1, 2]", csrf).get_json()["purpose"] == "login"
    assert post_json(client, "/auth/logout", '["x"]', csrf).status_code == 200


# --- the fuzz test ----------------------------------------------------------------------

FIELD_NAMES = ("purpose", "format", "algorithm", "certificate", "signature", "request_id",
               "nonce", "terminal_id", "token", "municipality", "certificate_type", "options",
               "amount", "idempotency_key", "result", "detail", "reason", "household",
               "fiscal_year", "code", "username", "password", "municipality_code", "q")

scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80)
           | st.sampled_from(["", "login", "392049", "printed", "juminhyo", "0" * 300]))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=10), inner, max_size=5),
    max_leaves=12)
json_bodies = (json_values.map(json.dumps)
               | st.sampled_from([DEEP, DEEP_OBJECT, "", "{", "nul", '"\\u0000"', "[" * 40 + "]" * 40])
               | st.binary(max_size=64).map(lambda b: b.decode("latin-1")))
form_values = st.text(max_size=300) | st.sampled_from(["", "0", "-1", "392049", "2026-02-30",
                                                       "９９", "x" * 5000, "true"])


def body_endpoints(app) -> list[tuple[str, str, tuple[str, ...]]]:
    """(rule, endpoint, methods) of every route taking a request body."""
    found = []
    for rule in app.url_map.iter_rules():
        methods = tuple(sorted(set(rule.methods) & set(BODY_METHODS)))
        if methods and not rule.rule.startswith("/static"):
            found.append((rule.rule, rule.endpoint, methods))
    return sorted(found)


def fill(rule: str, ids: dict) -> str:
    """A concrete path: converters filled with real identifiers of the fuzzing city."""
    def value(match):
        converter, name = match.group(1) or "", match.group(2)
        if name == "code":
            return ids["code"]
        if name == "kind":
            return ids["kind"]
        return str(ids.get(name, ids["resident_id"])) if converter.startswith("int") else "x"
    return re.sub(r"<(?:(\w+):)?(\w+)>", value, rule)


def form_fields(client, path: str) -> list[str]:
    """The input names of the page's form (when the route also answers GET)."""
    response = client.get(path)
    if response.status_code != 200 or "text/html" not in response.content_type:
        return []
    return sorted(set(re.findall(r'name="([^"]+)"', response.get_data(as_text=True))) - {"csrf_token"})


@pytest.fixture
def fuzz_world(app, make_city, make_resident, make_staff, sign_in_as, client):
    app.config["AUTH_RATE_LIMIT"] = app.config["AUTH_CERT_RATE_LIMIT"] = "100000/minute"
    for key in ("STAFF_LOGIN_RATE_LIMIT", "STAFF_LOGIN_ACCOUNT_RATE_LIMIT", "STAFF_LOGIN_CITY_RATE_LIMIT"):
        app.config[key] = "100000/minute"
    city = make_city("392049", "南国市")
    person = make_resident(city)
    staff = make_staff(city, roles=["administrator", "registry_clerk", "health_staff",
                                    "issuance_operator", "cloud_operator"])
    from services.maternal_health.services import RECORD_TYPES
    return {"city": city, "resident": person, "staff": staff, "client": client,
            "sign_in": sign_in_as, "kinds": sorted(RECORD_TYPES),
            "endpoints": body_endpoints(app), "fields": {}}


def fuzz(world, who: str, data) -> None:
    client = world["client"]
    if who == "signed out":
        with client.session_transaction() as sess:
            sess.clear()
    else:
        world["sign_in"](world["resident" if who == "resident" else "staff"])
    rule, endpoint, methods = data.draw(st.sampled_from(world["endpoints"]), label="endpoint")
    method = data.draw(st.sampled_from(methods), label="method")
    ids = {"code": world["city"].code, "resident_id": world["resident"].id,
           "kind": data.draw(st.sampled_from(world["kinds"] + ["nonsense"]), label="kind")}
    path = fill(rule, ids)
    csrf = csrf_token(client)
    if data.draw(st.booleans(), label="as JSON"):
        raw = data.draw(json_bodies, label="json")
        response = client.open(path, method=method, data=raw.encode("utf-8", "surrogatepass"),
                               content_type="application/json",
                               headers={"X-CSRFToken": csrf, "Authorization": "Bearer x" * 2})
    else:
        if (who, path) not in world["fields"]:
            world["fields"][who, path] = form_fields(client, path)
        names = world["fields"][who, path] + list(data.draw(
            st.lists(st.sampled_from(FIELD_NAMES), max_size=3), label="extra fields"))
        form = {name: data.draw(form_values, label=name) for name in names}
        form["csrf_token"] = csrf
        response = client.open(path, method=method, data=form)
    assert response.status_code < 500, (who, method, path, response.status_code,
                                        response.get_data(as_text=True)[:300])


@pytest.mark.parametrize("who", ["signed out", "resident", "staff"])
def test_no_generated_body_reaches_a_5xx(fuzz_world, who):
    assert len(fuzz_world["endpoints"]) >= 20   # the URL map, not a hand-kept list

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data):
        fuzz(fuzz_world, who, data)
    run()
