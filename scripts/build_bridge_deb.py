#!/usr/bin/env python3
"""``make bridge-deb``: the card bridge as a Debian package, built with dpkg-deb (no debhelper:
the package is a folder of Python files, a launcher, a settings file and two desktop entries).

    scripts/build_bridge_deb.py --origin https://portal.city.example.lg.jp [--kiosk] [--port N]
                                [--reader NAME] [--revision 1] [--out dist]

What it installs:
    /usr/lib/madoguchi-bridge/madoguchi_smartcard/   the folder smartcard/, private to the package
    /usr/bin/madoguchi-bridge                        the command (Debian's python3)
    /etc/madoguchi-bridge/bridge.toml                the deployment's settings (a conffile)
    /usr/share/applications/madoguchi-bridge.desktop the menu entry and the
                                                     x-scheme-handler/madoguchi-bridge handler
    /etc/xdg/autostart/madoguchi-bridge.desktop      starts it with the desktop session
Python libraries come from Debian: Debian 12's python3-pyscard 2.0.5, python3-cryptography 38
and python3-click 8.1.3 suffice (tests/distributions runs the bridge on them).
Only the standard library is used here, so any python3 ≥ 3.11 builds it.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "smartcard"
PACKAGE = "madoguchi-bridge"
PRIVATE = Path("usr/lib/madoguchi-bridge")
DEPENDS = ("python3 (>= 3.11), python3-pyscard (>= 2.0.5), python3-cryptography (>= 38), "
           "python3-click (>= 8.1), pcscd")

LAUNCHER = """#!/usr/bin/python3 -I
# madoguchi-bridge (Debian package): the package's private copy of madoguchi_smartcard.
import sys
sys.path.insert(0, "/usr/lib/madoguchi-bridge")
from madoguchi_smartcard.bridge.app import main
sys.exit(main())
"""

# The bridge's own URL scheme: a portal page starts the bridge through it (the URL's
# content is ignored: see madoguchi_smartcard/bridge/app.py).
DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Version=1.0
Name=Madoguchi card bridge
Name[ja]=マイナンバーカード連携アプリ
Comment=Sign in to your city's portal with your My Number card (the PIN stays on this computer)
Comment[ja]=マイナンバーカードで自治体のポータルにログインします（暗証番号はこのパソコンから出ません）
Exec=madoguchi-bridge open %u
Icon=dialog-password
Terminal=false
Categories=Utility;Security;
MimeType=x-scheme-handler/madoguchi-bridge;
"""

AUTOSTART_ENTRY = """[Desktop Entry]
Type=Application
Version=1.0
Name=Madoguchi card bridge
Name[ja]=マイナンバーカード連携アプリ
Exec=madoguchi-bridge open
Terminal=false
NoDisplay=true
X-GNOME-Autostart-enabled=true
"""

# Byte-compiled files are made on the machine and removed before the files go.
POSTINST = """#!/bin/sh
set -e
if [ "$1" = configure ]; then
    python3 -m compileall -q /usr/lib/madoguchi-bridge >/dev/null || true
fi
"""
PRERM = """#!/bin/sh
set -e
find /usr/lib/madoguchi-bridge -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
"""

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: madoguchi
License: Apache-2.0
Files: *
Copyright: the Madoguchi authors
License: Apache-2.0
 On Debian systems see /usr/share/common-licenses/Apache-2.0.
"""


def load_source_module(name: str, path: Path):
    """A module of smartcard/bridge that imports only the standard library (version, config)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def settings_file(origins: list[str], port: int, kiosk: bool, reader: str | None) -> str:
    """/etc/madoguchi-bridge/bridge.toml; the origins are checked the way the bridge checks them."""
    config = load_source_module("bridge_config", SOURCE / "bridge" / "config.py")
    checked = config.BridgeConfig(tuple(origins), port=port, kiosk=kiosk, reader=reader)
    lines = ["# マイナンバーカード連携アプリの設定 / settings of the card bridge (madoguchi-bridge).",
             "# The portal origins it serves: a resident adds one only with `madoguchi-bridge add-origin`,",
             "# which shows it in full and asks first.  Kiosks: kiosk = true (PIN pad, card events).",
             f"origins = [{', '.join(json.dumps(o) for o in checked.origins)}]",
             f"port = {checked.port}",
             f"kiosk = {'true' if checked.kiosk else 'false'}"]
    if reader:
        lines.append(f"reader = {json.dumps(reader, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def stage(root: Path, settings: str, version: str) -> None:
    shutil.copytree(SOURCE, root / PRIVATE / "madoguchi_smartcard",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in (root / PRIVATE).rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    write(root / "usr/bin/madoguchi-bridge", LAUNCHER, 0o755)
    write(root / "etc/madoguchi-bridge/bridge.toml", settings)
    write(root / "usr/share/applications/madoguchi-bridge.desktop", DESKTOP_ENTRY)
    write(root / "etc/xdg/autostart/madoguchi-bridge.desktop", AUTOSTART_ENTRY)
    write(root / "usr/share/doc/madoguchi-bridge/copyright", COPYRIGHT)
    size_kib = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) // 1024 + 1
    write(root / "DEBIAN/control", f"""Package: {PACKAGE}
Version: {version}
Architecture: all
Maintainer: Madoguchi project <madoguchi@example.invalid>
Installed-Size: {size_kib}
Depends: {DEPENDS}
Recommends: desktop-file-utils, xdg-utils
Section: utils
Priority: optional
Description: My Number card bridge for the Madoguchi portal
 マイナンバーカード連携アプリ: a small local web app beside the card reader.  It listens on
 127.0.0.1 only, serves only the portal origins of /etc/madoguchi-bridge/bridge.toml,
 takes the PIN in its own window and lets the card sign the portal's challenge.  The PIN
 never leaves this computer and the My Number is never read.
""")
    write(root / "DEBIAN/conffiles", "/etc/madoguchi-bridge/bridge.toml\n")
    write(root / "DEBIAN/postinst", POSTINST, 0o755)
    write(root / "DEBIAN/prerm", PRERM, 0o755)


def build(origins: list[str], port: int, kiosk: bool, reader: str | None, revision: str, out: Path) -> Path:
    version = load_source_module("bridge_version", SOURCE / "bridge" / "version.py").VERSION
    settings = settings_file(origins, port, kiosk, reader)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{PACKAGE}_{version}-{revision}_all.deb"
    with tempfile.TemporaryDirectory() as staging:
        root = Path(staging) / "root"
        stage(root, settings, f"{version}-{revision}")
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(target)],
                       check=True, stdout=subprocess.DEVNULL)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--origin", action="append", required=True, help="the deployment's portal origin")
    parser.add_argument("--port", type=int, default=35980)
    parser.add_argument("--kiosk", action="store_true", help="kiosk machines: PIN pad and card events")
    parser.add_argument("--reader", default=None, help="kiosk machines: use only this reader")
    parser.add_argument("--revision", default="1", help="Debian revision (the part after the version)")
    parser.add_argument("--out", type=Path, default=REPO / "dist")
    args = parser.parse_args()
    try:
        target = build(args.origin, args.port, args.kiosk, args.reader, args.revision, args.out)
    except ValueError as exc:  # the bridge's ConfigError: a bad origin, port …
        parser.error(str(exc))
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    (target.parent / (target.name + ".sha256")).write_text(f"{digest}  {target.name}\n", encoding="utf-8")
    print(f"{target}\nSHA-256 {digest}")


if __name__ == "__main__":
    main()
