"""The portal refuses to start on missing essentials, and says what is missing in one line."""
import json
import subprocess
import sys

import pytest

from portal import ConfigError, create_app
from portal.config import load_config


def test_production_without_settings_is_refused():
    with pytest.raises(ConfigError) as refused:
        load_config(environ={})
    message = str(refused.value)
    assert "\n" not in message
    for key in ("MADOGUCHI_SECRET_KEY", "MADOGUCHI_DATABASE_URL", "MADOGUCHI_CARD_TRUST_ANCHORS",
                "MADOGUCHI_OIDC_ISSUER or MADOGUCHI_PUBLIC_ORIGIN"):
        assert key in message


def test_production_without_an_oidc_issuer_or_public_origin_is_refused(trust_anchor):
    environ = {"MADOGUCHI_SECRET_KEY": "x" * 40, "MADOGUCHI_DATABASE_URL": "sqlite://",
               "MADOGUCHI_CARD_TRUST_ANCHORS": str(trust_anchor)}
    with pytest.raises(ConfigError, match="MADOGUCHI_OIDC_ISSUER or MADOGUCHI_PUBLIC_ORIGIN"):
        load_config(environ=environ)
    assert load_config(environ={**environ, "MADOGUCHI_PUBLIC_ORIGIN": "https://portal.example"})
    assert load_config(environ={**environ, "MADOGUCHI_OIDC_ISSUER": "https://id.example"})


def test_only_the_missing_key_is_named(trust_anchor):
    with pytest.raises(ConfigError) as refused:
        load_config(environ={"MADOGUCHI_SECRET_KEY": "x" * 40,
                             "MADOGUCHI_CARD_TRUST_ANCHORS": str(trust_anchor)})
    assert "MADOGUCHI_DATABASE_URL" in str(refused.value)
    assert "MADOGUCHI_SECRET_KEY" not in str(refused.value)


def test_unreadable_trust_anchor_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="trust anchor"):
        load_config(environ={"MADOGUCHI_SECRET_KEY": "k", "MADOGUCHI_DATABASE_URL": "sqlite://",
                             "MADOGUCHI_PUBLIC_ORIGIN": "https://portal.example",
                             "MADOGUCHI_CARD_TRUST_ANCHORS": str(tmp_path / "missing.pem")})


def test_layers_file_then_environment_then_overrides(tmp_path, trust_anchor):
    config_file = tmp_path / "madoguchi.toml"
    config_file.write_text(f'secret_key = "from-file"\ndatabase_url = "sqlite://"\n'
                           f'card_trust_anchors = ["{trust_anchor}"]\nkiosk_idle_seconds = 60\n')
    environ = {"MADOGUCHI_CONFIG": str(config_file), "MADOGUCHI_KIOSK_IDLE_SECONDS": "90",
               "MADOGUCHI_SERVICES": "medication,maternal_health",
               "MADOGUCHI_PUBLIC_ORIGIN": "https://portal.example"}
    config = load_config({"secret_key": "from-test"}, environ=environ)
    assert config["SECRET_KEY"] == "from-test"
    assert config["DATABASE_URL"] == "sqlite://"
    assert config["KIOSK_IDLE_SECONDS"] == 90
    assert config["SERVICES"] == ["medication", "maternal_health"]


def test_json_config_file(tmp_path, trust_anchor):
    config_file = tmp_path / "madoguchi.json"
    config_file.write_text(json.dumps({"SECRET_KEY": "s", "DATABASE_URL": "sqlite://",
                                       "CARD_TRUST_ANCHORS": [str(trust_anchor)],
                                       "OIDC_ISSUER": "https://portal.example"}))
    assert load_config(environ={"MADOGUCHI_CONFIG": str(config_file)})["SECRET_KEY"] == "s"


def test_malformed_config_file_is_one_clear_line(tmp_path):
    config_file = tmp_path / "bad.toml"
    config_file.write_text("secret_key = ")
    with pytest.raises(ConfigError, match="malformed config file"):
        load_config(environ={"MADOGUCHI_CONFIG": str(config_file)})


def test_development_mode_starts_without_settings(tmp_path):
    app = create_app({"ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path}/dev.sqlite"})
    assert len(app.config["SECRET_KEY"]) >= 32
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_production_cookies_are_secure_and_lax(app):
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"  # kiosks: Strict, per response
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")


def test_command_line_prints_one_line_and_fails(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "portal", "db", "upgrade"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "MADOGUCHI_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr
