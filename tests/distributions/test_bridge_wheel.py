"""The bridge's own distribution (bridge/pyproject.toml): built from this tree, installed into a
fresh venv the way ``pipx install`` does, it brings nothing of the portal and signs a login with
the virtual card through pcscd."""
from __future__ import annotations

import pytest

from tests.bridge.conftest import NONCE, PORTAL, BridgeClient
from tests.bridge.test_bridge_card import verifies
from tests.distributions.conftest import (READER_A, BridgeProcess, fresh_venv, free_port, installed, pip,
                                      outside_env, run)
from madoguchi_smartcard.bridge.cardwork import signed_data
from madoguchi_smartcard.bridge.version import VERSION

pytestmark = [pytest.mark.packaging, pytest.mark.card]

# What the bridge may pull in: itself, the three it names, and theirs (cryptography's cffi).
ALLOWED = {"madoguchi-bridge", "pyscard", "cryptography", "click", "cffi", "pycparser"}
PORTAL_ONLY = {"flask", "sqlalchemy", "reportlab", "pyhanko", "faker", "alembic", "gunicorn", "madoguchi"}


def test_the_bridge_installs_alone_and_signs_a_login(bridge_wheel, tmp_path, card_in_reader, card_profile):
    python = fresh_venv(tmp_path / "venv")
    pip(python, "install", bridge_wheel)
    names = installed(python)
    assert "madoguchi-bridge" in names and "pyscard" in names
    assert names <= ALLOWED, names - ALLOWED
    assert not names & PORTAL_ONLY
    command = python.parent / "madoguchi-bridge"
    assert run([command, "--version"], cwd=tmp_path).stdout.strip() == f"madoguchi-bridge {VERSION}"

    port = free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(f'origins = ["{PORTAL}"]\nport = {port}\nreader = "{READER_A}"\n', encoding="utf-8")
    bridge = BridgeProcess([command, "--config", config], port, cwd=tmp_path,
                           env=outside_env(XDG_CONFIG_HOME=str(tmp_path / "home-config")))
    try:
        status = BridgeClient(bridge).request("GET", "/status").json()
        assert status["version"] == VERSION and status["bridge"] == f"madoguchi-bridge/{VERSION}"
        _, answer = BridgeClient(bridge).login()
        assert answer.status == 200, answer.text
        assert verifies(answer.json()["token"], signed_data(PORTAL, NONCE))
    finally:
        assert bridge.stop() == 0  # SIGTERM: a clean stop
