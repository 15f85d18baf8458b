"""Packaging tests: wheels built from this tree offline (the venv's setuptools, no build
isolation), installed into fresh virtual environments; the Debian package built with
dpkg-deb and installed with apt on this machine.  Processes run outside the source tree
(another working directory, no PYTHONPATH), so only what was installed is imported."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bridge.conftest import card_in_reader, card_profile, bridge_card_issued, bridge_pki  # noqa: F401
from tests.smartcard.conftest import PORT_A, PORT_B, READER_A, READER_B, pcsc_stack  # noqa: F401

REPO = Path(__file__).resolve().parents[2]


def build_wheel(source: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
         str(source)])
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="session")
def bridge_wheel(tmp_path_factory) -> Path:
    return build_wheel(REPO / "bridge", tmp_path_factory.mktemp("bridge-wheel"))


@pytest.fixture(scope="session")
def portal_wheel(tmp_path_factory) -> Path:
    return build_wheel(REPO, tmp_path_factory.mktemp("portal-wheel"))


def run(command: list, check: bool = True, **options) -> subprocess.CompletedProcess:
    """Run a command outside the source tree (unless told ``cwd``/``env``)."""
    options.setdefault("cwd", "/")
    options.setdefault("env", outside_env())
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **options)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def outside_env(**extra: str) -> dict:
    """The environment of a process that must not see the source tree."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return env | extra


def fresh_venv(path: Path) -> Path:
    """A new virtual environment without pip (this venv's pip installs into it: faster)."""
    run([sys.executable, "-m", "venv", "--without-pip", path])
    return path / "bin" / "python"


def pip(python: Path, *args) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "pip", "--python", python, "-q", *args])


def installed(python: Path) -> set[str]:
    """Normalised names of the distributions installed in that environment's own site-packages."""
    listing = run([python, "-c", "import importlib.metadata as m, sysconfig; print('\\n'.join("
                   "d.metadata['Name'] for d in m.distributions(path=[sysconfig.get_paths()['purelib']])))"],
                  )
    return {name.strip().lower().replace("_", "-") for name in listing.stdout.split()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BridgeProcess:
    """A bridge started as a command, as :class:`tests.bridge.conftest.BridgeClient` wants it."""

    def __init__(self, command: list, port: int, cwd: Path, env: dict | None = None) -> None:
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([str(c) for c in command], cwd=cwd, env=env or outside_env(),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.banner = self.process.stdout.readline()  # printed once it listens
        if "card bridge on" not in self.banner:
            self.stop()
            raise AssertionError(f"the bridge did not start: {self.banner}{self.process.stderr.read()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=10)
