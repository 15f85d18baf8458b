"""Signing keys: rotation keeps the old key published, new tokens use the new kid; keys in
a directory are private files; only the newest few are published."""
from __future__ import annotations

import stat

import jwt
from click.testing import CliRunner

from portal.cli import Context
from portal.oidc import keys
from portal.oidc.cli import oidc


def cli_context(app) -> Context:
    context = Context()
    context._app = app
    return context


def test_rotation_keeps_old_key_in_jwks_and_signs_new_tokens_with_new_kid(app, rp, resident, sign_in_as):
    sign_in_as(resident)
    first_auth = rp.authorization()
    first = rp.tokens(first_auth)["id_token"]
    old_kid = jwt.get_unverified_header(first)["kid"]

    result = CliRunner().invoke(oidc, ["keys", "rotate"], obj=cli_context(app))
    assert result.exit_code == 0, result.output
    new_kid = result.output.split("kid=")[1].split()[0]
    assert new_kid != old_kid

    published = rp.jwks()
    assert {old_kid, new_kid} <= {k.key_id for k in published.keys}
    rp.verify(first, first_auth.nonce, jwks=published)  # issued before, still verifies

    auth = rp.authorization()
    second = rp.tokens(auth)["id_token"]
    assert jwt.get_unverified_header(second)["kid"] == new_kid
    rp.verify(second, auth.nonce, jwks=published)


def test_jwks_publishes_only_public_parts_of_the_newest_keys(app, rp):
    app.config["OIDC_PUBLISHED_KEYS"] = 2
    runner, context = CliRunner(), cli_context(app)
    kids = [runner.invoke(oidc, ["keys", "rotate"], obj=context).output.split("kid=")[1].split()[0]
            for _ in range(3)]
    document = rp.http.get("/oidc/jwks").get_json()
    assert [k["kid"] for k in document["keys"]] == [kids[2], kids[1]]
    for key in document["keys"]:
        assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    listing = runner.invoke(oidc, ["keys", "list"], obj=context).output.splitlines()
    assert listing[0].startswith(kids[2]) and "署名中" in listing[0]
    assert "非公開" in listing[2]


def test_key_directory_store_writes_private_files_and_orders_by_age(tmp_path):
    store = keys.DirectoryKeyStore(tmp_path / "oidc-keys")
    first, second = keys.rotate(store), keys.rotate(store)
    assert [k.kid for k in store.newest(5)] == [second.kid, first.kid]
    assert keys.active_key(store, may_generate=False).kid == second.kid
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
