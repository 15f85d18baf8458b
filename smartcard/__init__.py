"""Talking to the My Number card (個人番号カード): APDUs, transports, JPKI, a virtual card, a test PKI.

Imports nothing from the portal, Flask or SQLAlchemy, and loads pyscard only
when a PC/SC reader is actually used (:mod:`smartcard.readers`).

Import from the submodules (``from smartcard.jpki import JPKICard``), never
from this package's namespace: pyscard installs a top-level package of the
same name, and depending on ``sys.path`` order either ``__init__`` may win.
The submodules resolve to this project in both cases.
"""
