"""The portal's wheel installed (not editable) beside pyscard in a fresh venv: both keep their
own files, so ``madoguchi card status`` and the virtual card work, keep working when pyscard is
uninstalled and put back, and say plainly what is missing in between.

The portal's other dependencies come from this test run's venv through a read-only view (a
``.pth`` line to symlinks of its site-packages, pyscard and the editable madoguchi left out):
installing them all afresh would take a minute and is not what is tested here."""
from __future__ import annotations

import subprocess
import sysconfig
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.distributions.conftest import PORT_B, READER_B, fresh_venv, installed, outside_env, pip, run
from tests.smartcard.conftest import fresh_copy, issued, pki  # noqa: F401

pytestmark = [pytest.mark.packaging, pytest.mark.card]

# Left out of the view: what the test installs itself, and this venv's own tooling.
NOT_SHARED = ("madoguchi", "__editable__", "smartcard", "pyscard", "pip", "setuptools", "_distutils_hack",
              "pkg_resources", "distutils-precedence")


def share_dependencies(python: Path, view: Path) -> None:
    view.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(NOT_SHARED) and entry.suffix != ".pth":
            (view / entry.name).symlink_to(entry)
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    (Path(site) / "shared-dependencies.pth").write_text(f"{view}\n", encoding="utf-8")


def top_levels(python: Path, distribution: str) -> set[str]:
    """The top-level names a distribution's RECORD writes in site-packages."""
    listing = run([python, "-c", "import importlib.metadata as m, sys; "
                   f"print('\\n'.join({{str(f).split('/')[0] for f in m.files({distribution!r})}}))"],
                  )
    return {name for name in listing.stdout.split() if not name.endswith(".dist-info") and name != ".."}


@contextmanager
def virtual_card(madoguchi: Path, profile: Path, readers):
    """The installed wheel's virtual card in reader B (its card group as a module: the same
    ``card serve`` as ``madoguchi card serve`` without the portal's start-up time)."""
    python = madoguchi.parent / "python"
    process = subprocess.Popen([str(python), "-m", "madoguchi_smartcard.cli", "card", "serve", str(profile),
                                "--port", str(PORT_B)],
                               cwd=profile.parent, env=outside_env(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        readers.wait_for_card(READER_B, timeout_s=15)
        yield
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0, process.stderr.read()
        readers.wait_for_removal(READER_B, timeout_s=10)


def test_portal_wheel_and_pyscard_never_share_a_file(portal_wheel, tmp_path, pcsc_stack, issued):
    python = fresh_venv(tmp_path / "venv")
    share_dependencies(python, tmp_path / "view")
    pip(python, "install", portal_wheel, "pyscard")
    assert {"madoguchi", "pyscard"} <= installed(python)
    assert top_levels(python, "pyscard") == {"smartcard"}
    assert "madoguchi_smartcard" in top_levels(python, "madoguchi")
    assert not top_levels(python, "madoguchi") & top_levels(python, "pyscard")

    madoguchi = python.parent / "madoguchi"
    profile = tmp_path / "card.json"
    fresh_copy(issued, profile)

    def card_status() -> str:
        with virtual_card(madoguchi, profile, pcsc_stack):
            result = run([madoguchi, "card", "status", "--reader", READER_B], cwd=tmp_path)
        assert "マイナンバーカード / My Number card" in result.stdout, result.stdout
        return result.stdout

    assert "label=JPKIAPICCTOKEN2" in card_status()

    pip(python, "uninstall", "-y", "pyscard")
    missing = run([madoguchi, "card", "status"], check=False, cwd=tmp_path)
    assert missing.returncode != 0 and "pyscard is not installed" in missing.stderr, missing.stderr
    assert "Traceback" not in missing.stderr

    pip(python, "install", "pyscard")
    assert "auth PIN tries left=3" in card_status()


