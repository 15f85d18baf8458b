"""Staff credentials: Argon2id passwords, TOTP second factor, lockout after failures."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from portal.db import scoped
from portal.staff.models import Role, StaffAccount

_hasher = PasswordHasher()  # Argon2id, memory-hard, library defaults (RFC 9106 low-memory)
# A hash to compare against when the account does not exist, so timing reveals nothing.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 12


# What a refused password step reads, whether the account is unknown, the password wrong or
# the account locked: the page must not tell an existing account from an unknown one.
WRONG_CREDENTIALS = "利用者名またはパスワードが違います。"


class SignInRefused(Exception):
    """Sign-in failed. `message` is what the person sees: never which part was wrong.
    `locked` and `account_id` are for the audit log only."""

    def __init__(self, message: str, locked: bool = False, account_id: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.locked = locked
        self.account_id = account_id


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    minutes: int = 15


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください")
    return _hasher.hash(password)


def create_staff(db: Session, municipality_id: int, username: str, display_name: str,
                 password: str, roles, totp_secret: str | None = None, *,
                 password_hash: str | None = None) -> StaffAccount:
    """`password_hash`: one already made from `password` (the demo's staff share a
    password; Argon2 takes a second or more per hash)."""
    account = StaffAccount(municipality_id=municipality_id, username=username,
                           display_name=display_name,
                           password_hash=password_hash or hash_password(password),
                           totp_secret=totp_secret or pyotp.random_base32())
    account.roles = [Role(r) for r in roles]
    db.add(account)
    db.flush()
    return account


def provisioning_uri(account: StaffAccount, issuer: str) -> str:
    return pyotp.TOTP(account.totp_secret).provisioning_uri(name=account.username, issuer_name=issuer)


def check_password(db: Session, username: str, password: str,
                   policy: LockoutPolicy) -> StaffAccount:
    """First factor. The session must be scoped to the municipality signed in to. Unknown,
    wrong and locked all read WRONG_CREDENTIALS and cost one hash; a locked account is
    refused even with the right password (its owner is told at their next sign-in)."""
    account = db.scalar(scoped(StaffAccount, StaffAccount.username == username))
    if account is None or not account.active:
        _verify_quietly(_DUMMY_HASH, password)
        raise SignInRefused(WRONG_CREDENTIALS)
    right = _verify_quietly(account.password_hash, password)
    locked = _locked(account) or (not right and _count_failure(account, policy))
    if locked or not right:
        raise SignInRefused(WRONG_CREDENTIALS, locked=locked, account_id=account.id)
    return account


def check_totp(account: StaffAccount, code: str, policy: LockoutPolicy,
               now: datetime | None = None) -> None:
    """Second factor: a 6-digit code, ±1 step of clock drift, each step usable once."""
    _refuse_if_locked(account)
    now = now or utcnow()
    totp = pyotp.TOTP(account.totp_secret)
    step = _matching_step(totp, (code or "").strip(), now)
    if step is None:
        if _count_failure(account, policy):
            raise _locked_error()
        raise SignInRefused("確認コードが違います。")
    if account.last_totp_step is not None and step <= account.last_totp_step:
        # right code, already spent (each step signs in once): say so, or the person retypes
        # the same code believing they mistyped it
        if _count_failure(account, policy):
            raise _locked_error()
        raise SignInRefused("この確認コードは使用済みです。アプリに次のコードが表示されてから入力してください。")
    account.last_totp_step = step
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now


def _matching_step(totp: pyotp.TOTP, code: str, now: datetime) -> int | None:
    if len(code) != 6 or not code.isdigit():
        return None
    timestamp = int(now.replace(tzinfo=timezone.utc).timestamp())
    for drift in (0, -1, 1):
        at = timestamp + drift * totp.interval
        if pyotp.utils.strings_equal(totp.at(at), code):
            return at // totp.interval
    return None


def _verify_quietly(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _locked(account: StaffAccount) -> bool:
    return account.locked_until is not None and account.locked_until > utcnow()


def _refuse_if_locked(account: StaffAccount) -> None:
    if _locked(account):
        raise _locked_error()


def _locked_error() -> SignInRefused:
    return SignInRefused("ログインの失敗が続いたため、一時的にロックしています。"
                         "しばらく待つか、管理者に連絡してください。", locked=True)


def _count_failure(account: StaffAccount, policy: LockoutPolicy) -> bool:
    """Count a failure; True when this one reached the limit and locked the account."""
    account.failed_logins += 1
    if account.failed_logins >= policy.max_failures:
        account.locked_until = utcnow() + timedelta(minutes=policy.minutes)
        account.failed_logins = 0
        return True
    return False
