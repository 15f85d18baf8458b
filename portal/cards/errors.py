"""One exception per way a card token can fail. `message` is what the resident reads (plain
Japanese, translated for English); `detail` is the precise line for staff logs."""
from __future__ import annotations


class CardTokenError(Exception):
    message = "カードによる本人確認ができませんでした。もう一度お試しください。"
    status = 400

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or type(self).__name__)
        self.detail = detail or type(self).__name__

    @property
    def code(self) -> str:
        return type(self).__name__


class MalformedToken(CardTokenError):
    message = "カードから受け取ったデータが正しくありません。カード用アプリを最新にしてお試しください。"


class TokenTooLarge(MalformedToken):
    status = 413


class NonceInvalid(CardTokenError):
    message = "画面の有効期限が切れたか、すでに使われています。ページを読み込み直してください。"


class CertificateInvalid(CardTokenError):
    message = "このカードの電子証明書は利用できません。"


class WrongCertificateType(CertificateInvalid):
    message = "利用者証明用電子証明書ではありません。マイナンバーカードの利用者証明用電子証明書をお使いください。"


class UntrustedCertificate(CertificateInvalid):
    message = "このカードの電子証明書を確認できません。マイナンバーカード以外のカードではありませんか。"


class CertificateExpired(CertificateInvalid):
    message = "電子証明書の有効期限が切れています。市区町村の窓口で更新してください。"


class CertificateNotYetValid(CertificateInvalid):
    message = "電子証明書がまだ有効になっていません。時間をおいてお試しください。"


class CertificateRevoked(CertificateInvalid):
    message = "この電子証明書は失効しています。市区町村の窓口にお問い合わせください。"


class RevocationUnavailable(CardTokenError):
    message = "電子証明書の有効性を確認できません。しばらくしてからお試しください。"
    status = 503


class SignatureInvalid(CardTokenError):
    message = "カードの署名を確認できませんでした。正しいサイトにアクセスしているか確認してください。"
