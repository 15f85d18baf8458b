"""The Debian package's settings file (scripts/build_bridge_deb.py): the deployment's origin,
and kiosk mode as a setting of the package, in the form the installed bridge reads."""
from __future__ import annotations

import importlib.util
import sys

import pytest

from madoguchi_smartcard.bridge import app
from tests.distributions.conftest import REPO, run


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location("build_bridge_deb", REPO / "scripts" / "build_bridge_deb.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_kiosk_package_runs_its_bridge_in_kiosk_mode_on_its_reader(builder, tmp_path, monkeypatch):
    settings = tmp_path / "bridge.toml"
    settings.write_text(builder.settings_file(["https://Portal.City.example.lg.jp/"], 35981, True,
                                              "SONY FeliCa Port/PaSoRi 4.0 00 00"), encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config = app.resolved_config(settings, (), None, None)
    assert config.origins == ("https://portal.city.example.lg.jp",)
    assert config.kiosk is True and config.port == 35981 and config.reader == "SONY FeliCa Port/PaSoRi 4.0 00 00"


def test_a_package_for_a_plain_http_portal_is_refused(tmp_path):
    result = run([sys.executable, REPO / "scripts" / "build_bridge_deb.py", "--origin", "http://portal.example.lg.jp",
                  "--out", tmp_path], check=False)
    assert result.returncode == 2 and "http のオリジンはこのパソコン内のみ" in result.stderr
    assert not list(tmp_path.iterdir())
