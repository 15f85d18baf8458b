"""The card bridge (カード連携アプリ): a small local web app beside the card reader.

The portal runs on a server and never touches a reader.  The bridge listens on
127.0.0.1 only, serves only the portal origins it is configured for, shows the
requesting origin before any PIN entry, takes the PIN in its own window, lets
the card sign ``SHA-256(origin) ‖ SHA-256(nonce)`` and hands the token back to
that one origin by ``postMessage``.  In kiosk mode it adds an on-screen PIN pad
and a Server-Sent-Events stream of card insertions and removals.

Import from the submodules (``from madoguchi_smartcard.bridge.server import Bridge``);
see ``smartcard/__init__.py`` for why the folder installs under that name.
"""
