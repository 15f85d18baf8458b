"""The installed `madoguchi` command as a new user runs it: every group is listed, the demo
builds the embedded default (SQLite, test PKI, demo cards) and the portal it serves answers
in Japanese, and the administration commands add a city and a staff member or say plainly
why not. Runs the real executable in a folder of its own (the embedded default is SQLite
whichever database the rest of the suite uses)."""
from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

MADOGUCHI = str(Path(sys.executable).with_name("madoguchi"))
GROUPS = ("bridge", "card", "cloud", "convenience_issuance", "db", "demo", "medication",
          "municipality", "oidc", "pki", "registry", "serve", "staff")


def run(*args: str, env: dict, expect: int = 0) -> subprocess.CompletedProcess:
    done = subprocess.run([MADOGUCHI, *args], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == expect, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory) -> dict:
    """A development environment whose instance folder is a fresh temporary one."""
    instance = tmp_path_factory.mktemp("instance")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_")}
    env.update(MADOGUCHI_ENV="development", MADOGUCHI_INSTANCE_PATH=str(instance))
    run("demo", "--residents", "15", env=env)
    return env


def test_help_lists_every_command_group():
    listed = run("--help", env=dict(os.environ)).stdout
    for group in GROUPS:
        assert re.search(rf"^\s+{group}\s", listed, re.M), group


def test_demo_builds_the_embedded_default(demo_env):
    instance = Path(demo_env["MADOGUCHI_INSTANCE_PATH"])
    assert (instance / "madoguchi.sqlite").stat().st_size > 0
    assert (instance / "demo.toml").exists() and (instance / "pki" / "pki.json").exists()
    assert {p.name for p in (instance / "cards").glob("*.json")} >= {"392049.json", "392049-2.json"}
    engine = create_engine(f"sqlite:///{instance / 'madoguchi.sqlite'}")
    with engine.connect() as connection:
        cities = connection.execute(text("SELECT name FROM municipality ORDER BY code")).scalars().all()
        residents = connection.execute(text("SELECT count(*) FROM resident")).scalar()
        card_holders = connection.execute(text(
            "SELECT r.given_name FROM card_binding b JOIN resident r ON r.id = b.resident_id "
            "ORDER BY b.id")).scalars().all()
        logout_uris = connection.execute(text(
            "SELECT post_logout_redirect_uris FROM oidc_client")).scalar()
    assert card_holders == ["美咲", "健太"]     # the demo family's mother, then the father
    partner = json.loads((instance / "oidc-demo-client.json").read_text(encoding="utf-8"))
    assert partner["authorize_url"].startswith("http://127.0.0.1:5000/oidc/authorize?")
    assert json.loads(logout_uris) == [partner["post_logout_redirect_uri"]]  # RP-initiated logout
    assert partner["logout_url"].startswith("http://127.0.0.1:5000/oidc/logout?")
    engine.dispose()
    assert cities == ["南国市", "香南市", "香美市"]
    assert residents >= 45
    again = run("demo", "--residents", "15", env=demo_env)      # a second run changes nothing
    assert "作成済み" in again.stdout


def test_each_demo_card_names_its_city_and_the_city_has_its_crl(demo_env):
    """As J-LIS issues them: the signing certificate's subject names the holder's prefecture
    and city (L=, L=), both certificates point to that city's CRL partition, and the demo PKI
    publishes that partition's CRL, which the demo portal loads."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    instance = Path(demo_env["MADOGUCHI_INSTANCE_PATH"])
    loaded = (instance / "demo.toml").read_text(encoding="utf-8")
    for code, city in (("392049", "Nankoku-shi"), ("392111", "Konan-shi"), ("392120", "Kami-shi")):
        card = json.loads((instance / "cards" / f"{code}.json").read_text(encoding="utf-8"))
        signing = x509.load_der_x509_certificate(base64.b64decode(card["signing"]["certificate"]))
        localities = [a.value for a in signing.subject.get_attributes_for_oid(NameOID.LOCALITY_NAME)]
        assert localities == ["Kochi-ken", city], code
        for kind in ("auth", "signing"):
            cert = x509.load_der_x509_certificate(base64.b64decode(card[kind]["certificate"]))
            point = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value[0]
            partition = point.full_name[0].value.rfc4514_string()
            assert f"OU={city},OU=Kochi-ken" in partition, (code, kind, partition)
            crl = instance / "pki" / "crl" / f"{kind}-g2-Kochi_ken-{city.replace('-', '_')}.crl"
            assert crl.exists() and f'"{crl}"' in loaded, (code, kind)
            idp = x509.load_der_x509_crl(crl.read_bytes()).extensions.get_extension_for_class(
                x509.IssuingDistributionPoint).value
            assert idp.full_name[0].value.rfc4514_string() == partition


def test_the_demo_portal_serves_the_japanese_home_page(demo_env):
    env = {**demo_env, "MADOGUCHI_CONFIG": str(Path(demo_env["MADOGUCHI_INSTANCE_PATH"]) / "demo.toml")}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([MADOGUCHI, "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        page = _get_when_up(f"http://127.0.0.1:{port}/", server)
        assert '<html lang="ja"' in page and "マイナンバーカードでログイン" in page
    finally:
        server.terminate()
        server.wait(timeout=10)


def _get_when_up(url: str, server: subprocess.Popen, wait_s: float = 30) -> str:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"portal did not come up: {server.stderr.read()}") from None
            time.sleep(0.3)


def test_drug_master_load_is_idempotent_and_refuses_a_malformed_file(demo_env, tmp_path):
    from services.medication.master_files import HOT_FIXTURE
    database = Path(demo_env["MADOGUCHI_INSTANCE_PATH"]) / "madoguchi.sqlite"
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:  # a demo built before the master existed
        connection.execute(text("DELETE FROM medication_master_code"))
        connection.execute(text("DELETE FROM medication_master_version"))
    engine.dispose()
    run("demo", "--residents", "15", env=demo_env)  # gains the master fixtures
    again = run("medication", "master", "load", str(HOT_FIXTURE), env=demo_env).stdout
    assert "読み込み済みです（変更なし）" in again  # the demo loaded it
    bad = tmp_path / "MEDIS20241130.TXT"
    bad.write_bytes(HOT_FIXTURE.read_bytes() + '"99","x"\r\n'.encode("cp932"))
    refused = run("medication", "master", "load", str(bad), env=demo_env, expect=1)
    assert "8行目：項目数が 2 です（医薬品HOTコードマスターは 24）。" in refused.stderr
    status = run("medication", "master", "status", env=demo_env).stdout
    assert "医薬品HOTコードマスター（MEDIS-DC）: 2024-10-31 版 MEDIS20241031.TXT" in status


def test_municipality_add_checks_the_code(demo_env):
    refused = run("municipality", "add", "392041", "どこか市", env=demo_env, expect=1)
    errors = [line for line in refused.stderr.splitlines() if not line.startswith("[")]  # not log lines
    assert len(errors) == 1 and "392041" in errors[0] and "検査数字" in errors[0]
    run("municipality", "add", "392065", "土佐市", "--population", "26000", env=demo_env)
    assert "土佐市" in run("municipality", "list", env=demo_env).stdout


def test_staff_add_then_sign_in_code(demo_env):
    added = run("staff", "add", "tosa_hoken", "--municipality", "392049", "--role", "health_staff",
                "--name", "土佐 保健師", "--password", "correct horse battery", env=demo_env)
    assert "tosa_hoken" in added.stdout
    short = run("staff", "add", "tosa_short", "--municipality", "392049", "--role", "health_staff",
                "--name", "短い 人", "--password", "short", env=demo_env, expect=1)
    assert "12" in short.stderr + short.stdout
    code = run("staff", "code", "tosa_hoken", "--municipality", "392049", env=demo_env).stdout
    assert re.search(r"\b\d{6}\b", code)


def test_production_without_settings_refuses_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_")}
    refused = run("db", "upgrade", env={**env, "MADOGUCHI_INSTANCE_PATH": str(tmp_path)}, expect=1)
    assert "MADOGUCHI_SECRET_KEY" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
