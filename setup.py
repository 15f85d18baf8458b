"""Which packages the ``madoguchi`` distribution installs (everything else is in pyproject.toml).

The card library lives in the folder ``smartcard/`` but installs as ``madoguchi_smartcard``:
pyscard installs a top-level package ``smartcard`` too, and two distributions writing the
same directory overwrite each other's ``__init__.py`` (uninstalling one breaks the other).
pyproject.toml cannot list found packages under another name, hence this file.
"""
from setuptools import find_packages, setup

CARD_PACKAGE, CARD_FOLDER = "madoguchi_smartcard", "smartcard"

card_packages = [CARD_PACKAGE + name[len(CARD_FOLDER):] for name in find_packages(include=[CARD_FOLDER + "*"])]
setup(packages=find_packages(include=["portal*", "services*"]) + card_packages,
      package_dir={CARD_PACKAGE: CARD_FOLDER})
