"""The terminal API against its own OpenAPI document (schemathesis, every check), with a
valid bearer token for the authenticated routes: 0 failures, in a bounded run."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS

from tests.convenience_issuance.conftest import API, Terminal
from tests.conftest import https_client

EXAMPLES = 10


@pytest.fixture
def contract(app, city, clock, keys, hanako, bind_card):
    """The schema served by the app, and a way to a fresh bearer token (each case may end
    its request: cancel, pay, report an outcome)."""
    app.config["AUTH_RATE_LIMIT"] = "100000/minute"
    card = bind_card(hanako)
    http = https_client(app)

    def fresh_token() -> str:
        terminal = Terminal(http, city.code)
        assert terminal.start(card).status_code == 201
        terminal.quote("juminhyo")
        return terminal.token
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    # The document says it: no string may hold NUL (U+0000); such a body is refused (400).
    schema.config.generation.update(allow_x00=False)
    return schema, fresh_token


def test_the_terminal_api_keeps_its_contract(contract):
    schema, fresh_token = contract
    checks = CHECKS.get_all()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            headers = {"Authorization": f"Bearer {fresh_token()}"} if operation.security else None
            case.call_and_validate(headers=headers, checks=checks)
        run()


@pytest.mark.parametrize("method, path, allowed", [
    ("PUT", "/request", {"GET", "DELETE"}), ("GET", "/request/quote", {"POST"}),
    ("PATCH", "/sessions", {"POST"}), ("DELETE", "/openapi.json", {"GET"})])
def test_a_method_not_allowed_is_a_json_problem_with_allow(client, method, path, allowed):
    """405 came as HTML and without Allow on some paths."""
    response = client.open(f"{API}{path}", method=method)
    assert response.status_code == 405 and response.is_json
    assert set(response.get_json()) >= {"error", "message"}
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_too_many_requests_is_a_problem_with_a_message(app, client, city, clock):
    """429 bodies lacked the document's `message`."""
    app.config["AUTH_RATE_LIMIT"] = "1/minute"
    ask = {"municipality": city.code, "terminal_id": "store-0001"}
    assert client.post(f"{API}/sessions/challenge", json=ask).status_code == 200
    refused = client.post(f"{API}/sessions/challenge", json=ask)
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "too_many_requests" and refused.get_json()["message"]


def test_the_document_names_the_outcome_400_and_refuses_empty_ids(client):
    document = client.get(f"{API}/openapi.json").get_json()
    assert "400" in document["paths"]["/api/v1/request/outcome"]["post"]["responses"]
    session = document["components"]["schemas"]["SessionRequest"]["properties"]
    assert session["nonce"]["minLength"] == 1 and "pattern" in session["terminal_id"]
    payment = document["components"]["schemas"]["PaymentRequest"]
    assert "idempotency_key" in payment["required"]
