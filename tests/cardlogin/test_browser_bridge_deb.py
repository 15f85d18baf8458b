"""The Debian package of the bridge (scripts/build_bridge_deb.py, `make bridge-deb`), built for
this live portal's origin, installed on this machine with apt (its Depends resolved by apt:
pcscd and Debian's python3-pyscard, -cryptography, -click), started the way the desktop
starts it (its URL-scheme handler), and a resident signs in through it in Chromium against
the virtual card.  The package is purged afterwards, so the test can run again."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bridge.conftest import BridgeClient
from tests.cardlogin.conftest import HOME, PIN, READER_A
from tests.cardlogin.test_browser_bridge import CardLogin, bind_in_advance
from tests.distributions.conftest import REPO, BridgeProcess, outside_env, run

pytestmark = [pytest.mark.browser, pytest.mark.card, pytest.mark.packaging]

APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", "-o", "APT::Install-Recommends=true"]


@pytest.fixture
def installed_package(live_server, bridge_port, tmp_path):
    """madoguchi-bridge installed from a .deb made for this portal; purged afterwards."""
    if os.geteuid() != 0:
        pytest.fail("installing the Debian package needs root (CI runs as root)", pytrace=False)
    run([sys.executable, REPO / "scripts" / "build_bridge_deb.py", "--origin", live_server,
         "--port", str(bridge_port), "--reader", READER_A, "--out", tmp_path])
    (deb,) = tmp_path.glob("madoguchi-bridge_*_all.deb")
    env = outside_env(DEBIAN_FRONTEND="noninteractive")
    install = [*APT, "install", "--reinstall", f"./{deb.name}"]
    if run(install, check=False, cwd=tmp_path, env=env).returncode != 0:  # a fresh machine's lists
        run([*APT, "update"], env=env)
        run(install, cwd=tmp_path, env=env)
    yield deb
    run(["dpkg", "--purge", "madoguchi-bridge"])


def test_the_installed_package_signs_a_resident_in(page, installed_package, bridge_port, live_server, client,
                                                   hanako, hanako_card, card_on_reader, tmp_path):
    settings = Path("/etc/madoguchi-bridge/bridge.toml").read_text(encoding="utf-8")
    assert f'origins = ["{live_server}"]' in settings  # which portal it serves came with the install
    handler = Path("/usr/share/applications/madoguchi-bridge.desktop").read_text(encoding="utf-8")
    assert "MimeType=x-scheme-handler/madoguchi-bridge;" in handler and "Exec=madoguchi-bridge open %u" in handler
    mime_cache = Path("/usr/share/applications/mimeinfo.cache").read_text(encoding="utf-8")
    assert "x-scheme-handler/madoguchi-bridge=madoguchi-bridge.desktop;" in mime_cache
    assert Path("/etc/xdg/autostart/madoguchi-bridge.desktop").is_file()

    bind_in_advance(client, hanako_card)
    # What the desktop runs for a madoguchi-bridge: link (Debian's python3 and its libraries).
    bridge = BridgeProcess(["/usr/bin/madoguchi-bridge", "open", "madoguchi-bridge://start"], bridge_port,
                           cwd=tmp_path, env=outside_env(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path)))
    try:
        again = run(["/usr/bin/madoguchi-bridge", "open", "madoguchi-bridge://start"], cwd=tmp_path,
                    env=outside_env(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path)))
        assert "すでに起動しています" in again.stdout  # a second link opens no second bridge
        assert BridgeClient(bridge).request("GET", "/status").json()["version"]
        CardLogin(page).sign_in(PIN)
        assert HOME in page.open("/me/").page_source
    finally:
        assert bridge.stop() == 0
    assert subprocess.run(["dpkg-query", "-W", "python3-pyscard", "python3-click"],
                          capture_output=True).returncode == 0  # Debian's libraries, not pip's
