"""Production serving: the proxy's health and readiness checks, the client's address behind
a configured number of trusted proxies (and a forged header ignored without one), and
`madoguchi serve` running gunicorn with an access log that names routes, not paths."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select, text

from portal import create_app
from portal.audit.auth_events import AuthEvent
from portal.migrate import expected_heads
from tests.conftest import TEST_SECRET, database_of_its_own, https_client
from tests.core.test_commands import _get_when_up

MADOGUCHI = str(Path(sys.executable).with_name("madoguchi"))
PROXY = "10.0.0.2"            # the reverse proxy as the portal's socket sees it
RESIDENT, OTHER = "203.0.113.7", "198.51.100.4"


def fresh_app(app_config: dict, **settings):
    return create_app({**app_config, **settings})


# --- /healthz and /readyz -------------------------------------------------------------------

def test_healthz_answers_without_touching_the_database(app_config, tmp_path):
    gone = fresh_app(app_config, DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    client = https_client(gone)
    assert client.get("/healthz").get_json() == {"status": "ok"}
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503 and not_ready.get_json()["reason"] == "database"


def test_readyz_when_migrated_to_every_head(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}


@pytest.fixture
def unmigrated_url(database_url, tmp_path):
    """An empty database of the same kind as the suite's: nobody ran `madoguchi db upgrade`."""
    with database_of_its_own(database_url, tmp_path / "empty.sqlite") as url:
        yield url


def test_readyz_refuses_a_database_that_was_not_migrated(app_config, unmigrated_url):
    app = fresh_app(app_config, DATABASE_URL=unmigrated_url)
    try:
        answer = https_client(app).get("/readyz")
    finally:
        app.extensions["madoguchi.db"].engine.dispose()
    assert answer.status_code == 503 and answer.get_json()["reason"] == "migrations"


def test_readyz_refuses_when_one_service_branch_is_behind(app, client, db):
    heads = expected_heads(app.config["DATABASE_URL"], app.extensions["madoguchi.services"])
    service_head = next(h for h in sorted(heads) if _branch_of(app, h) == "medication")
    with db.transaction() as s:   # rolled back with the test's outer transaction
        s.execute(text("DELETE FROM alembic_version WHERE version_num = :v"), {"v": service_head})
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.get_json()["reason"] == "migrations"


def _branch_of(app, revision: str) -> str:
    from alembic.script import ScriptDirectory
    from portal.migrate import alembic_config
    script = ScriptDirectory.from_config(
        alembic_config(app.config["DATABASE_URL"], app.extensions["madoguchi.services"]))
    return next(iter(script.get_revision(revision).branch_labels), "")


# --- the client's address behind the proxy --------------------------------------------------

def challenge_codes(client, forwarded_for: list[str]) -> list[int]:
    """POST /auth/challenge once per forwarded address, each through the same proxy."""
    via = {"environ_base": {"REMOTE_ADDR": PROXY}}
    html = client.get("/auth/login", **via).get_data(as_text=True)
    csrf = re.search(r'data-csrf="([^"]+)"', html).group(1)
    return [client.post("/auth/challenge", json={}, **via,
                        headers={"X-CSRFToken": csrf, "X-Forwarded-For": address}).status_code
            for address in forwarded_for]


@pytest.fixture
def app_config(app_config, request):
    """The suite's settings plus those a test names (`indirect` parametrisation)."""
    return {**app_config, **getattr(request, "param", {})}


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1, "AUTH_RATE_LIMIT": "2/minute"}],
                         indirect=True)
def test_one_trusted_proxy_gives_each_resident_a_rate_limit_bucket(client):
    assert challenge_codes(client, [RESIDENT, RESIDENT, RESIDENT]) == [200, 200, 429]
    assert challenge_codes(client, [OTHER]) == [200]   # behind the same proxy, not held back


@pytest.mark.parametrize("app_config", [{"AUTH_RATE_LIMIT": "2/minute"}], indirect=True)
def test_without_trusted_proxies_a_forged_header_does_not_dodge_the_limit(app, client):
    assert app.config["TRUSTED_PROXIES"] == 0   # the default
    assert challenge_codes(client, [RESIDENT, OTHER, "192.0.2.99"]) == [200, 200, 429]


@pytest.mark.parametrize("app_config, recorded", [({"TRUSTED_PROXIES": 1}, RESIDENT),
                                                  ({"TRUSTED_PROXIES": 0}, PROXY)],
                         indirect=["app_config"])
def test_the_sign_in_record_sees_the_address_the_trusted_proxy_saw(client, db, recorded):
    """A token with no challenge, refused, posted through the proxy. The last X-Forwarded-For
    entry is the one the trusted proxy added; the first is whatever the client claimed."""
    html = client.get("/auth/login").get_data(as_text=True)
    csrf = re.search(r'data-csrf="([^"]+)"', html).group(1)
    refused = client.post("/auth/card", json={}, environ_base={"REMOTE_ADDR": PROXY},
                          headers={"X-CSRFToken": csrf, "X-Forwarded-For": f"{OTHER}, {RESIDENT}"})
    assert refused.get_json()["status"] == "refused"
    with db.transaction() as s:
        event = s.scalars(select(AuthEvent).order_by(AuthEvent.id.desc())).first()
    assert (event.method, event.outcome, event.remote_addr) == ("card", "refused", recorded)


def test_a_negative_number_of_proxies_is_refused(app_config):
    from portal.config import ConfigError
    with pytest.raises(ConfigError, match="MADOGUCHI_TRUSTED_PROXIES"):
        fresh_app(app_config, TRUSTED_PROXIES=-1)


def test_the_route_pattern_is_what_the_access_log_gets(app, client):
    seen: dict = {}
    inner = app.wsgi_app

    def keep_environ(environ, start_response):   # the environ gunicorn's logger reads after
        try:
            return inner(environ, start_response)
        finally:
            seen.update(environ)
    app.wsgi_app = keep_environ
    client.get("/services/maternal_health/children/4711?q=佐藤")
    assert seen["madoguchi.route"] == "/services/maternal_health/children/<int:child_id>"
    client.get("/no/such/page/12345")
    assert seen["madoguchi.route"] == "-"


# --- madoguchi serve: gunicorn in production mode -------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_runs_gunicorn_in_production(committed_database_url, tmp_path, card_pki):
    anchor = card_pki.directory / "auth-ca-g2.pem"  # checked at start-up: a real one
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "GUNICORN"))}
    env.update(MADOGUCHI_ENV="production", MADOGUCHI_SECRET_KEY=TEST_SECRET,
               MADOGUCHI_DATABASE_URL=committed_database_url,
               MADOGUCHI_CARD_TRUST_ANCHORS=str(anchor), MADOGUCHI_TRUSTED_PROXIES="1",
               MADOGUCHI_INSTANCE_PATH=str(tmp_path), MADOGUCHI_PUBLIC_ORIGIN="https://portal.test")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([MADOGUCHI, "serve", "--port", str(port), "--workers", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _get_when_up(f"{base}/readyz", server, wait_s=90) == '{"status":"ok"}\n'
        personal = urllib.request.Request(   # signed out: redirected to the home page
            f"{base}/services/maternal_health/children/4711?q=%E4%BD%90%E8%97%A4",
            headers={"X-Forwarded-For": RESIDENT, "Cookie": "madoguchi=secret-cookie"})
        with urllib.request.urlopen(personal, timeout=30) as answer:
            assert answer.status == 200 and "4711" in answer.url   # the app saw the path
    finally:
        server.terminate()
        out, err = server.communicate(timeout=60)
    assert "gunicorn" in err and "Booting worker" in err          # gunicorn, not werkzeug
    line = next(x for x in out.splitlines() if "children" in x)
    assert line.startswith(RESIDENT + " ")                         # ProxyFix, one trusted proxy
    assert '"GET /services/maternal_health/children/<int:child_id>"' in line
    for personal_part in ("4711", "q=", "%E4", "secret-cookie"):
        assert personal_part not in out + err


def test_the_gunicorn_config_names_workers_timeouts_and_a_personal_data_free_log():
    import runpy
    conf = runpy.run_path(str(Path(__file__).parents[2] / "portal" / "gunicorn.conf.py"))
    assert conf["worker_class"] == "sync" and conf["workers"] >= 1 and conf["timeout"] > 0
    assert conf["wsgi_app"] == "portal:create_app()"
    for leaky in ("%(r)s", "%(U)s", "%(q)s", "%(f)s", "%(a)s", "{cookie}i"):
        assert leaky not in conf["access_log_format"]
