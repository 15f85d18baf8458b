"""`madoguchi oidc client …`: clients are registered per municipality; the secret is
shown once and stored only as a hash."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from portal.db import across_municipalities
from portal.oidc.cli import oidc
from portal.oidc.models import OidcClient
from portal.oidc.services import secret_matches
from tests.oidc.test_keys import cli_context


def add(app, *args):
    return CliRunner().invoke(oidc, ["client", "add", *args], obj=cli_context(app))


def registered(db, client_id: str) -> OidcClient:
    with db.transaction() as s:
        return s.scalar(across_municipalities(select(OidcClient).where(OidcClient.client_id == client_id)))


def test_client_add_prints_id_and_secret_once_and_stores_a_hash(app, db, cities):
    result = add(app, "--municipality", "392049", "--name", "南国市 子育てアプリ",
                 "--redirect-uri", "https://kosodate.example/cb")
    assert result.exit_code == 0, result.output
    client_id = result.output.split("client_id:")[1].split()[0]
    secret = result.output.split("client_secret:")[1].split()[0]
    row = registered(db, client_id)
    assert row.municipality_id == cities[0].id
    assert row.sector_identifier == "kosodate.example"
    assert secret not in row.secret_hash and secret_matches(secret, row.secret_hash)
    assert not secret_matches("wrong", row.secret_hash)
    listing = CliRunner().invoke(oidc, ["client", "list"], obj=cli_context(app)).output
    assert client_id in listing and "392049" in listing and secret not in listing


def test_client_add_with_sector_and_scopes(app, cities):
    result = add(app, "--municipality", "392111", "--name", "香南市 図書館",
                 "--redirect-uri", "https://lib.example/cb", "--redirect-uri", "https://m.lib.example/cb",
                 "--sector", "lib.example", "--scope", "openid", "--scope", "profile")
    assert result.exit_code == 0, result.output
    assert "sector:        lib.example" in result.output


def test_client_add_refuses_unknown_city_and_bad_redirect_uris(app, cities):
    unknown = add(app, "--municipality", "999999", "--name", "x", "--redirect-uri", "https://a.example/cb")
    assert unknown.exit_code != 0 and "999999" in unknown.output
    plain_http = add(app, "--municipality", "392049", "--name", "x", "--redirect-uri", "http://a.example/cb")
    assert plain_http.exit_code != 0 and "https://" in plain_http.output
    two_hosts = add(app, "--municipality", "392049", "--name", "x", "--redirect-uri", "https://a.example/cb",
                    "--redirect-uri", "https://b.example/cb")
    assert two_hosts.exit_code != 0 and "--sector" in two_hosts.output
    no_openid = add(app, "--municipality", "392049", "--name", "x", "--redirect-uri", "https://a.example/cb",
                    "--scope", "profile")
    assert no_openid.exit_code != 0 and "openid" in no_openid.output


def test_client_add_with_post_logout_uris_and_offline_access(app, db, cities):
    result = add(app, "--municipality", "392049", "--name", "南国市 図書館",
                 "--redirect-uri", "https://lib.example/cb", "--scope", "openid",
                 "--scope", "offline_access", "--post-logout-redirect-uri", "https://lib.example/bye")
    assert result.exit_code == 0, result.output
    client_id = result.output.split("client_id:")[1].split()[0]
    row = registered(db, client_id)
    assert row.post_logout_redirect_uris == ["https://lib.example/bye"]
    assert row.scopes == ["openid", "offline_access"]
    listing = CliRunner().invoke(oidc, ["client", "list"], obj=cli_context(app)).output
    assert "https://lib.example/bye" in listing
    bad = add(app, "--municipality", "392049", "--name", "x", "--redirect-uri", "https://a.example/cb",
              "--post-logout-redirect-uri", "http://a.example/bye")
    assert bad.exit_code != 0 and "https://" in bad.output


def test_clients_get_no_offline_access_unless_registered_for_it(app, db, cities):
    result = add(app, "--municipality", "392049", "--name", "x", "--redirect-uri", "https://a.example/cb")
    client_id = result.output.split("client_id:")[1].split()[0]
    row = registered(db, client_id)
    assert "offline_access" not in row.scopes and "profile" in row.scopes
