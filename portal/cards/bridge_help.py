"""The card bridge's help page: how a resident installs or updates the bridge, in plain words,
with the packages this deployment offers, their SHA-256 and the version the portal expects.

The sign-in page (card-login.js) sends the resident here when the bridge neither answers nor
starts through its URL scheme, or answers with a version older than CARD_BRIDGE_MIN_VERSION:
never to a browser's error page.  Packages are the files of CARD_BRIDGE_DOWNLOADS (e.g. the
output of ``make bridge-deb``); their checksums are computed here, never typed in.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory
from portal.web.i18n import lazy_gettext as _l

from portal.cards.views import portal_origin

bp = Blueprint("card_bridge", __name__, url_prefix="/auth/card-bridge")

# Which system each kind of package is for (the file's suffix says it).
SYSTEMS = {".deb": _l("Debian・Ubuntu などの Linux"), ".exe": "Windows", ".msi": "Windows",
           ".pkg": "macOS", ".dmg": "macOS", ".whl": _l("pipx でのインストール（各OS）")}
# The browser's system (its User-Agent) → the suffixes of the packages for it, shown first.
FOR_BROWSER = (("Windows", (".msi", ".exe")), ("Macintosh", (".pkg", ".dmg")), ("Linux", (".deb",)))
VERSION_RE = re.compile(r"^\d{1,4}(\.\d{1,4}){0,3}$")


@dataclass(frozen=True)
class Package:
    name: str
    system: str
    size: int
    sha256: str
    for_this_computer: bool = False


@lru_cache(maxsize=64)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    """Keyed by modification time and size: a replaced package is hashed again."""
    digest = hashlib.sha256()
    with open(path, "rb") as package:
        for block in iter(lambda: package.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def downloads_folder() -> Path | None:
    folder = current_app.config.get("CARD_BRIDGE_DOWNLOADS")
    return Path(folder) if folder else None


def suffixes_for(user_agent: str) -> tuple[str, ...]:
    return next((suffixes for marker, suffixes in FOR_BROWSER if marker in user_agent), ())


def offered_packages(user_agent: str = "") -> list[Package]:
    """The packages of CARD_BRIDGE_DOWNLOADS, those for the browser's system first."""
    mine = suffixes_for(user_agent)
    folder = downloads_folder()
    if folder is None or not folder.is_dir():
        return []
    packages = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in SYSTEMS:
            stat = path.stat()
            packages.append(Package(path.name, str(SYSTEMS[path.suffix]), stat.st_size,
                                    _sha256(str(path), stat.st_mtime_ns, stat.st_size), path.suffix in mine))
    return sorted(packages, key=lambda package: not package.for_this_computer)


@bp.get("/")
def help_page():
    reason = "outdated" if request.args.get("reason") == "outdated" else "absent"
    found = request.args.get("found", "")
    return render_template("cards/bridge_help.html", reason=reason,
                           found=found if VERSION_RE.match(found) else None,
                           min_version=current_app.config["CARD_BRIDGE_MIN_VERSION"],
                           packages=offered_packages(request.user_agent.string), origin=portal_origin())


@bp.get("/download/<name>")
def download(name: str):
    if name not in {package.name for package in offered_packages()}:
        abort(404)
    return send_from_directory(downloads_folder(), name, as_attachment=True)
