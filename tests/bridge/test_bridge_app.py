"""``madoguchi-bridge``, the command residents install: which origins it serves comes with the
install (the settings file) or from the resident, through a confirmation that shows the origin
in full; the URL-scheme handler takes nothing from the URL."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from madoguchi_smartcard.bridge import app
from madoguchi_smartcard.bridge.version import VERSION
from tests.bridge.conftest import PORTAL

OTHER = "https://portal.other-city.example.lg.jp"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """The resident's configuration folder (XDG_CONFIG_HOME) and the package's settings file."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    settings = tmp_path / "bridge.toml"
    settings.write_text(f'origins = ["{PORTAL}"]\nport = 35999\nkiosk = false\n', encoding="utf-8")
    monkeypatch.setattr(app, "SYSTEM_CONFIG", settings)
    return tmp_path


def invoke(*args: str, answer: str | None = None):
    return CliRunner().invoke(app.main, list(args), input=answer)


def test_the_installed_settings_name_the_portal(home):
    result = invoke("origins")
    assert result.exit_code == 0 and result.output.split() == [PORTAL]
    assert app.resolved_config(None, (), None, None).port == 35999


def test_adding_an_origin_shows_it_in_full_and_needs_a_yes(home):
    refused = invoke("add-origin", "HTTPS://Portal.Other-City.example.lg.jp:443/", answer="\n")
    assert refused.exit_code == 1
    assert f"    {OTHER}\n" in refused.output and "変更しませんでした" in refused.output
    assert invoke("origins").output.split() == [PORTAL]

    allowed = invoke("add-origin", OTHER, answer="y\n")
    assert allowed.exit_code == 0, allowed.output
    assert invoke("origins").output.split() == [PORTAL, OTHER]
    assert invoke("add-origin", OTHER).output.startswith("すでに許可されています")

    assert invoke("remove-origin", OTHER).exit_code == 0
    assert invoke("origins").output.split() == [PORTAL]


def test_an_origin_the_bridge_would_refuse_is_never_written(home):
    result = invoke("add-origin", "http://portal.example.lg.jp", answer="y\n")
    assert result.exit_code == 2 and "http のオリジンはこのパソコン内のみ" in result.output
    assert not app.user_origins_path().exists()


def test_a_hand_edited_origins_file_may_hold_only_origins(home):
    app.user_origins_path().parent.mkdir(parents=True)
    app.user_origins_path().write_text('origins = []\nport = 80\n', encoding="utf-8")
    assert invoke("origins").exit_code != 0


def test_without_any_origin_the_resident_is_told_how_to_allow_one(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr(app, "SYSTEM_CONFIG", tmp_path / "absent.toml")
    result = invoke("origins")
    assert result.exit_code == 2 and "madoguchi-bridge add-origin" in result.output


def test_origin_option_replaces_the_settings_for_development(home):
    result = invoke("--origin", "http://127.0.0.1:5000", "origins")
    assert result.output.split() == ["http://127.0.0.1:5000"]


def test_the_url_handler_takes_only_its_own_scheme(home):
    result = invoke("open", "https://evil.example/?origin=https://evil.example")
    assert result.exit_code == 2 and "madoguchi-bridge: の URL ではありません" in result.output


def test_the_url_handler_starts_no_second_bridge(home, make_bridge, monkeypatch):
    running = make_bridge(origins=[PORTAL])
    result = invoke("--port", str(running.port), "open", "madoguchi-bridge://start?origin=https://evil.example")
    assert result.exit_code == 0 and "すでに起動しています" in result.output


def test_version(home):
    assert invoke("--version").output.strip() == f"madoguchi-bridge {VERSION}"
