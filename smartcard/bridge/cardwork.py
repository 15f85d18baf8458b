"""The card work behind the bridge's API: choose the reader, sign, and explain failures.

Every card error becomes a :class:`BridgeFailure` with a stable ``code`` the
page can act on and plain words in Japanese (English second) for the resident.
The PIN and password pass through here and nowhere else; nothing in this module
logs them or puts them into an exception.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import threading
from dataclasses import dataclass
from typing import Callable

from .. import errors
from ..jpki import JPKICard, LoginResult
from .version import VERSION

log = logging.getLogger("smartcard.bridge")

TOKEN_FORMAT = "madoguchi-jpki:1"
ALGORITHM = "RS256"


def app_version() -> str:
    return f"madoguchi-bridge/{VERSION}"


def signed_data(origin: str, nonce: str) -> bytes:
    """SHA-256(origin) ‖ SHA-256(nonce): what the card signs (as the DigestInfo of its SHA-256).

    The same line as ``portal.cards.validation.signed_data``; repeated here because
    the bridge must not import the portal.
    """
    return hashlib.sha256(origin.encode()).digest() + hashlib.sha256(nonce.encode()).digest()


def make_token(result: LoginResult) -> dict:
    """The JSON token the portal's ``POST /auth/card`` takes."""
    return {"format": TOKEN_FORMAT, "algorithm": ALGORITHM,
            "certificate": base64.b64encode(result.certificate).decode("ascii"),
            "signature": base64.b64encode(result.signature).decode("ascii"),
            "appVersion": app_version()}


# -- failures --------------------------------------------------------------------------------

@dataclass(eq=False)  # not frozen: Python sets attributes (__traceback__ …) on raised exceptions
class BridgeFailure(Exception):
    """Something the resident must be told.  ``retry``: may they try again on this page?"""

    code: str
    message_ja: str
    message_en: str
    retry: bool = True
    tries_left: int | None = None
    status: int = 409

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en}"

    def as_json(self) -> dict:
        body = {"code": self.code, "message": self.message_ja, "message_en": self.message_en,
                "retry": self.retry}
        if self.tries_left is not None:
            body["tries_left"] = self.tries_left
        return body


def failure(code: str, *, tries_left: int | None = None, status: int = 409) -> BridgeFailure:
    """A :class:`BridgeFailure` with the standard wording for ``code``."""
    ja, en, retry = MESSAGES[code]
    if tries_left is not None:
        # English counts: "1 more wrong try", "2 more wrong tries"
        tries = "1 more wrong try" if tries_left == 1 else f"{tries_left} more wrong tries"
        ja, en = ja.format(n=tries_left), en.format(tries=tries)
    return BridgeFailure(code, ja, en, retry, tries_left, status)


# code: (Japanese, English, may retry on this page)
MESSAGES: dict[str, tuple[str, str, bool]] = {
    "no_reader": ("カードリーダーが見つかりません。カードリーダーがパソコンにつながっているか確認してください。",
                  "No card reader found. Check that the reader is connected.", True),
    "no_card": ("カードが置かれていません。マイナンバーカードをカードリーダーに置いてから、もう一度お試しください。",
                "No card on the reader. Place your My Number card on the reader and try again.", True),
    "wrong_card": ("マイナンバーカードではないようです。カードリーダーに置いたカードを確認してください。",
                   "This is not a My Number card. Check the card on the reader.", True),
    "wrong_pin": ("暗証番号が違います。あと{n}回間違えると暗証番号がロックされます。",
                  "Wrong PIN. {tries} will lock it.", True),
    "pin_blocked": ("暗証番号がロックされています。お住まいの市区町村の窓口で暗証番号の初期化（再設定）をしてください。",
                    "The PIN is locked. Ask your municipality's counter to reset it.", False),
    "wrong_password": ("署名用電子証明書のパスワードが違います。あと{n}回間違えるとロックされます。",
                       "Wrong signing password. {tries} will lock it.", True),
    "password_blocked": ("署名用電子証明書のパスワードがロックされています。お住まいの市区町村の窓口で初期化の手続きをしてください。",
                         "The signing password is locked. Ask your municipality's counter to reset it.", False),
    "card_removed": ("処理の途中でカードが取り外されました。カードを置き直して、最初からやり直してください。",
                     "The card was removed during the operation. Put it back and try again.", True),
    "invalid_pin": ("暗証番号は数字4桁で入力してください。", "The PIN is 4 digits.", True),
    "invalid_password": ("パスワードは英大文字と数字の6〜16文字で入力してください。",
                         "The signing password is 6-16 characters, A-Z and 0-9.", True),
    "no_signing_certificate": ("このカードには署名用電子証明書が入っていません。初回の登録は市区町村の窓口でお手続きください。",
                               "This card holds no signing certificate. Please register at the counter.", False),
    "card_error": ("カードの読み取りに失敗しました。カードを置き直して、もう一度お試しください。",
                   "The card could not be read. Put it back on the reader and try again.", True),
    "busy": ("別の処理を行っています。少し待ってからもう一度お試しください。",
             "Another card operation is running. Try again in a moment.", True),
}


def explain(exc: errors.CardError, secret: str) -> BridgeFailure:
    """Turn a card error into what the resident reads.  ``secret``: "pin" or "password"."""
    if isinstance(exc, errors.WrongPin):
        if exc.tries_left <= 0:
            return failure("pin_blocked" if secret == "pin" else "password_blocked")
        return failure("wrong_pin" if secret == "pin" else "wrong_password", tries_left=exc.tries_left)
    if isinstance(exc, errors.PinBlocked):
        return failure("pin_blocked" if secret == "pin" else "password_blocked")
    for kind, code in _SIMPLE:
        if isinstance(exc, kind):
            return failure(code)
    return failure("card_error")


# Order matters: CardRemoved and NoCard are ReaderErrors too.
_SIMPLE: tuple[tuple[type, str], ...] = (
    (errors.CardRemoved, "card_removed"),
    (errors.NoCard, "no_card"),
    (errors.CardTimeout, "no_card"),
    (errors.ReaderUnavailable, "no_reader"),
    (errors.NotMyNumberCard, "wrong_card"),
    (errors.InvalidPinFormat, "invalid_pin"),
    (errors.InvalidPasswordFormat, "invalid_password"),
)


# -- the card desk ------------------------------------------------------------------------------

class CardDesk:
    """Runs one card operation at a time on the configured reader (or the one holding a card)."""

    def __init__(self, reader: str | None = None, card_wait_s: float = 3.0) -> None:
        self.reader = reader
        self.card_wait_s = card_wait_s
        self._lock = threading.Lock()
        self._context = None

    def login(self, pin: str, data: bytes) -> LoginResult:
        """Read the auth certificate, verify the PIN, sign ``data``.  Raises :class:`BridgeFailure`."""
        if not (len(pin) == 4 and pin.isascii() and pin.isdigit()):
            raise failure("invalid_pin", status=400)  # never spend a try on a malformed PIN
        return self._run(lambda card: card.login(pin, data), "pin")

    def enroll(self, password: str, data: bytes) -> LoginResult:
        """Verify the signing password, read the signing certificate, sign ``data``."""
        password = password.upper()
        if not (6 <= len(password) <= 16 and password.isascii() and password.isalnum()):
            raise failure("invalid_password", status=400)
        return self._run(lambda card: card.enroll(password, data), "password")

    def _run(self, operation: Callable[[JPKICard], LoginResult], secret: str) -> LoginResult:
        if not self._lock.acquire(timeout=self.card_wait_s + 10):
            raise failure("busy", status=503)
        try:
            return self._on_card(operation, secret)
        finally:
            self._lock.release()

    def _on_card(self, operation: Callable[[JPKICard], LoginResult], secret: str) -> LoginResult:
        from .. import readers  # pyscard is loaded only when a card is really used
        try:
            context = self._pcsc_context(readers)
            reader = self._choose_reader(readers, context)
            with readers.open_card(reader, timeout_s=self.card_wait_s, context=context) as card:
                return operation(card)
        except errors.FileNotFound as exc:
            if secret == "password":  # no EF 0001/001A: a card without a signing certificate
                log.info("card refused the signing certificate: %s", exc)
                raise failure("no_signing_certificate") from None
            raise self._explained(exc, secret) from None
        except errors.CardError as exc:
            raise self._explained(exc, secret) from None

    @staticmethod
    def _explained(exc: errors.CardError, secret: str) -> BridgeFailure:
        log.info("card operation failed: %s: %s", type(exc).__name__, exc)  # str(exc) never holds the PIN
        return explain(exc, secret)

    def _pcsc_context(self, readers):
        if self._context is None:
            self._context = readers.PcscContext()
        return self._context

    def _choose_reader(self, readers, context) -> str | None:
        """The configured reader, else the one reader holding a card (a My Number card if several)."""
        names = readers.list_readers(context)
        if self.reader is not None:
            if self.reader not in names:
                raise errors.ReaderUnavailable(f"configured reader {self.reader!r} not connected")
            return self.reader
        if not names:
            raise errors.ReaderUnavailable("no PC/SC reader")
        holding = [r for r, state in context.reader_states().items() if readers.card_present(state)]
        if len(holding) <= 1:
            return holding[0] if holding else None  # None: wait for a card in any reader
        mynumber = readers.find_mynumber_readers(context)
        if not mynumber:
            raise errors.NotMyNumberCard("none of the cards present answers the JPKI select")
        return mynumber[0]

    def close(self) -> None:
        if self._context is not None:
            self._context.release()
            self._context = None
