"""One exception taxonomy for everything that can go wrong with a card.

Every error carries a plain Japanese message for residents and support staff
(``message_ja``) and an English ``str()`` for logs.  Callers catch
:class:`CardError` and show ``message_ja``; nothing else should escape this
package from card I/O or from parsing what a card answered.
"""

from __future__ import annotations


class CardError(Exception):
    """Base of every card, reader and card-answer error."""

    message_ja = "カードの処理中にエラーが発生しました。もう一度お試しください。"
    message_en = "card operation failed"

    def __init__(self, detail: str | None = None, *, sw: int | None = None) -> None:
        self.detail = detail
        self.sw = sw
        super().__init__(str(self))

    def __str__(self) -> str:
        text = self.message_en
        if self.sw is not None:
            text += f" (SW {self.sw:04X})"
        if self.detail:
            text += f": {self.detail}"
        return text


# --- reader and connection -------------------------------------------------

class ReaderError(CardError):
    """The reader or the PC/SC service, not the card, is the problem."""

    message_ja = "カードリーダーとの通信でエラーが発生しました。"
    message_en = "reader error"


class ReaderUnavailable(ReaderError):
    message_ja = "カードリーダーが見つかりません。リーダーの接続を確認してください。"
    message_en = "no card reader available"


class NoCard(ReaderError):
    message_ja = "カードが置かれていません。マイナンバーカードをリーダーに置いてください。"
    message_en = "no card in the reader"


class CardRemoved(ReaderError):
    message_ja = "処理の途中でカードが取り外されました。カードを置き直して、最初からやり直してください。"
    message_en = "card removed during the operation"


class CardTimeout(ReaderError):
    message_ja = "時間内にカードが置かれませんでした。"
    message_en = "timed out waiting for a card"


class NotMyNumberCard(CardError):
    message_ja = "マイナンバーカードではないようです。カードを確認してください。"
    message_en = "not a My Number card (JPKI applet not found)"


class UnexpectedAnswer(CardError):
    """The card (or reader) answered something this library cannot make sense of."""

    message_ja = "カードから予期しない応答がありました。カードを置き直してください。"
    message_en = "unexpected answer from the card"


class InvalidInput(CardError):
    """A PIN or password that can never be right (checked before it reaches the card)."""

    message_ja = "入力の形式が正しくありません。"
    message_en = "invalid input"


class InvalidPinFormat(InvalidInput):
    message_ja = "暗証番号は数字4桁で入力してください。"
    message_en = "the PIN must be 4 digits"


class InvalidPasswordFormat(InvalidInput):
    message_ja = "署名用電子証明書のパスワードは英大文字と数字の6〜16文字で入力してください。"
    message_en = "the signing password must be 6-16 characters A-Z, 0-9"


# --- status words ----------------------------------------------------------

class StatusWordError(CardError):
    """The card refused a command with a status word other than 90 00."""

    message_ja = "カードが処理を受け付けませんでした。"
    message_en = "card refused the command"


class WrongPin(StatusWordError):
    """63 Cx: wrong PIN or password, ``tries_left`` remain."""

    message_en = "wrong PIN"

    def __init__(self, tries_left: int, detail: str | None = None, *, sw: int | None = None):
        self.tries_left = tries_left
        super().__init__(detail, sw=sw)

    @property
    def message_ja(self) -> str:  # type: ignore[override]
        if self.tries_left == 0:
            return "暗証番号が違います。暗証番号がロックされました。市区町村の窓口で初期化の手続きをしてください。"
        return f"暗証番号が違います。あと{self.tries_left}回間違えるとロックされます。"

    def __str__(self) -> str:
        return f"{super().__str__()} ({self.tries_left} tries left)"


class PinBlocked(StatusWordError):
    """69 84: the PIN is blocked; only the municipality counter can reset it."""

    message_ja = "暗証番号がロックされています。市区町村の窓口で初期化の手続きをしてください。"
    message_en = "PIN blocked"


class SecurityStatusNotSatisfied(StatusWordError):
    """69 82: the PIN/password has not been verified for this file or key."""

    message_ja = "暗証番号の確認が済んでいないため、この操作はできません。"
    message_en = "security status not satisfied"


class CommandNotAllowed(StatusWordError):
    message_ja = "この操作はカードで許可されていません。"
    message_en = "command not allowed"


class FileNotFound(StatusWordError):
    message_ja = "カードに必要な情報が見つかりません。"
    message_en = "file or applet not found"


class WrongLength(StatusWordError):
    message_ja = "カードとの通信でエラーが発生しました（長さ不正）。"
    message_en = "wrong length"


class WrongParameters(StatusWordError):
    message_ja = "カードとの通信でエラーが発生しました（パラメータ不正）。"
    message_en = "wrong parameters"


class InstructionNotSupported(StatusWordError):
    message_ja = "カードがこの操作に対応していません。"
    message_en = "instruction not supported"


class ClassNotSupported(StatusWordError):
    message_ja = "カードがこの操作に対応していません。"
    message_en = "class not supported"


class UnknownStatus(StatusWordError, UnexpectedAnswer):
    message_ja = "カードから予期しない応答がありました。"
    message_en = "unknown status word"
