"""Talking to the My Number card (個人番号カード): APDUs, transports, JPKI, a virtual card, a test PKI.

Imports nothing from the portal, Flask or SQLAlchemy, and loads pyscard only
when a PC/SC reader is actually used (:mod:`smartcard.readers`).

Installed, this folder is the package ``madoguchi_smartcard`` (setup.py and
bridge/pyproject.toml map it): pyscard installs a top-level package ``smartcard``,
and two distributions must never write the same directory.  Import it as
``madoguchi_smartcard``; inside, modules import each other relatively.
"""
