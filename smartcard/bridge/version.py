"""The bridge's own version: ``/status`` reports it and the portal compares it with the lowest
version it accepts (``CARD_BRIDGE_MIN_VERSION``).  One number for the pip distribution
(``bridge/pyproject.toml`` reads it from here), the Debian package and the portal's help page.
Raise it whenever the bridge's behaviour towards the portal changes."""

VERSION = "1.0.0"
