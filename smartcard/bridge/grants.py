"""Page grants: what one bridge window may ask of the card.

``GET /sign`` issues a random grant token, bound to the origin the resident
was shown and to the portal's nonce.  ``POST /api/login`` and ``/api/enroll``
present the token; the origin and nonce come from the grant, never from the
request, so a script cannot swap the origin after the resident confirmed it.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

GRANT_LIFETIME_S = 600
MAX_CARD_ATTEMPTS = 10  # the card blocks after 3 wrong PINs anyway; this caps a runaway page
MAX_GRANTS = 256


@dataclass
class PageGrant:
    origin: str
    nonce: str
    purpose: str
    expires_at: float
    attempts: int = 0
    logged_in: bool = False


class GrantBook:
    """Grants in memory (the bridge is one process serving one person at a time)."""

    def __init__(self, lifetime_s: float = GRANT_LIFETIME_S) -> None:
        self.lifetime_s = lifetime_s
        self._grants: dict[str, PageGrant] = {}
        self._lock = threading.Lock()

    def issue(self, origin: str, nonce: str, purpose: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._forget_expired()
            if len(self._grants) >= MAX_GRANTS:
                oldest = min(self._grants, key=lambda t: self._grants[t].expires_at)
                del self._grants[oldest]
            self._grants[token] = PageGrant(origin, nonce, purpose, time.monotonic() + self.lifetime_s)
        return token

    def use(self, token: object) -> PageGrant | None:
        """The live grant for ``token``, counting one card attempt; None if unknown, expired or used up."""
        if not isinstance(token, str):
            return None
        with self._lock:
            grant = self._grants.get(token)
            if grant is None or grant.expires_at < time.monotonic() or grant.attempts >= MAX_CARD_ATTEMPTS:
                return None
            grant.attempts += 1
            return grant

    def revoke(self, token: str) -> None:
        with self._lock:
            self._grants.pop(token, None)

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for token in [t for t, g in self._grants.items() if g.expires_at < now]:
            del self._grants[token]
