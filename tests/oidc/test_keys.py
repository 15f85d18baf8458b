"""Signing keys: a new key is published for a while before it signs, a retired key stays
published until its tokens have expired; keys in a directory are private files."""
from __future__ import annotations

import stat
from datetime import timedelta

import jwt
from click.testing import CliRunner
from sqlalchemy import select

from portal.cli import Context
from portal.oidc import keys
from portal.oidc.cli import oidc
from portal.oidc.models import OidcSigningKey


def cli_context(app) -> Context:
    context = Context()
    context._app = app
    return context


def age_keys(db, seconds: int) -> None:
    """Let time pass for the signing keys (they are rows with a creation time)."""
    with db.transaction() as s:
        for row in s.scalars(select(OidcSigningKey)):
            row.created_at -= timedelta(seconds=seconds)


def rotate(app) -> str:
    result = CliRunner().invoke(oidc, ["keys", "rotate"], obj=cli_context(app))
    assert result.exit_code == 0, result.output
    return result.output.split("kid=")[1].split()[0]


def test_a_new_key_is_published_first_and_signs_only_after_the_publication_time(
        app, db, rp, resident, sign_in_as):
    sign_in_as(resident)
    first_auth = rp.authorization()
    first = rp.tokens(first_auth)["id_token"]
    old_kid = jwt.get_unverified_header(first)["kid"]

    new_kid = rotate(app)
    published = rp.jwks()
    assert {k.key_id for k in published.keys} == {old_kid, new_kid}
    auth = rp.authorization()
    assert jwt.get_unverified_header(rp.tokens(auth)["id_token"])["kid"] == old_kid  # not yet

    age_keys(db, 86400)  # the default publication time has passed
    auth = rp.authorization()
    second = rp.tokens(auth)["id_token"]
    assert jwt.get_unverified_header(second)["kid"] == new_kid
    rp.verify(second, auth.nonce, jwks=published)  # the JWKS cached before it signed
    now = rp.jwks()
    assert {k.key_id for k in now.keys} == {old_kid, new_kid}  # its tokens may be valid yet
    rp.verify(first, first_auth.nonce, jwks=now)


def test_a_retired_key_is_withdrawn_once_its_tokens_have_expired(app, db, rp):
    app.config.update(OIDC_KEY_PUBLISH_SECONDS=3600, OIDC_ID_TOKEN_SECONDS=600)
    first, second = rotate(app), rotate(app)
    age_keys(db, 3600)  # the second key signs from now on; the first is retired
    assert [k["kid"] for k in rp.http.get("/oidc/jwks").get_json()["keys"]] == [second, first]
    age_keys(db, 600 + 300 - 2)  # ID token lifetime + clock slack, not quite over
    assert len(rp.http.get("/oidc/jwks").get_json()["keys"]) == 2
    age_keys(db, 3)
    assert [k["kid"] for k in rp.http.get("/oidc/jwks").get_json()["keys"]] == [second]


def test_jwks_publishes_only_public_parts_and_keys_list_says_each_state(app, db, rp):
    runner, context = CliRunner(), cli_context(app)
    kids = [rotate(app) for _ in range(3)]
    document = rp.http.get("/oidc/jwks").get_json()
    assert [k["kid"] for k in document["keys"]] == [kids[2], kids[1], kids[0]]
    for key in document["keys"]:
        assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    listing = runner.invoke(oidc, ["keys", "list"], obj=context).output.splitlines()
    assert listing[0].startswith(kids[2]) and "署名前" in listing[0]
    assert listing[2].startswith(kids[0]) and "署名中" in listing[2]


def test_the_first_key_signs_at_once_and_pending_keys_never_sign_early():
    schedule = keys.Schedule(timedelta(hours=24), timedelta(minutes=15))
    first = keys.generate_key()
    later = keys.SigningKey("later", first.private_pem, first.created_at + timedelta(hours=1))
    at = first.created_at + timedelta(hours=2)
    assert [s.state for s in keys.key_states([later, first], at, schedule)] == ["pending", "signing"]
    at = first.created_at + timedelta(hours=25, minutes=1)
    assert [s.state for s in keys.key_states([later, first], at, schedule)] == ["signing", "retired"]
    at = first.created_at + timedelta(hours=25, minutes=16)
    assert [s.state for s in keys.key_states([later, first], at, schedule)] == ["signing", "withdrawn"]


def test_key_directory_store_writes_private_files_and_orders_by_age(tmp_path):
    store = keys.DirectoryKeyStore(tmp_path / "oidc-keys")
    first, second = keys.rotate(store), keys.rotate(store)
    assert [k.kid for k in store.newest(5)] == [second.kid, first.kid]
    schedule = keys.Schedule(timedelta(hours=24), timedelta(minutes=15))
    assert keys.active_key(store, False, schedule).kid == first.kid  # second is only published
    later = second.created_at + timedelta(hours=24)
    assert keys.active_key(store, False, schedule, now=later).kid == second.kid
    for path in (tmp_path / "oidc-keys").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "oidc-keys").stat().st_mode) == 0o700


def test_configured_key_directory_is_used_by_the_provider(app, rp, resident, sign_in_as, tmp_path):
    app.config["OIDC_KEY_DIR"] = str(tmp_path / "keys")
    key = keys.rotate(keys.DirectoryKeyStore(tmp_path / "keys"))
    sign_in_as(resident)
    auth = rp.authorization()
    token = rp.tokens(auth)["id_token"]
    assert jwt.get_unverified_header(token)["kid"] == key.kid
    rp.verify(token, auth.nonce)


def test_production_without_a_key_refuses_instead_of_inventing_one(app, client, tmp_path):
    app.config.update(TESTING=False, OIDC_KEY_DIR=str(tmp_path / "empty"))
    response = client.get("/oidc/jwks")
    assert response.status_code == 503
    assert response.get_json()["error"] == "temporarily_unavailable"
    assert not (tmp_path / "empty").exists()


def test_production_without_pairwise_secret_refuses(app, rp, resident, sign_in_as):
    keys_app = CliRunner().invoke(oidc, ["keys", "rotate"], obj=cli_context(app))
    assert keys_app.exit_code == 0
    sign_in_as(resident)
    code_auth = rp.authorization()
    code = rp.sign_in_and_get_code(code_auth)
    app.config["TESTING"] = False
    response = rp.exchange(code, code_auth.verifier)
    assert response.status_code == 503
    app.config["OIDC_PAIRWISE_SECRET"] = "deployment-secret-0123456789abcdef"
    code_auth = rp.authorization()
    app.config["TESTING"] = True  # the test client's consent post needs nothing else
    code = rp.sign_in_and_get_code(code_auth)
    app.config["TESTING"] = False
    assert rp.exchange(code, code_auth.verifier).status_code == 200
