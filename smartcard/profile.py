"""Card profiles: everything a virtual My Number card holds, as a JSON file.

The test PKI writes profiles; the virtual card reads them and writes the PIN
counters back, so a blocked test card stays blocked across restarts.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .constants import CONTACT_ATR

PROFILE_VERSION = 1

AUTH_PIN_TRIES = 3
SIGNING_PASSWORD_TRIES = 5
CARD_INFO_PIN_TRIES = 3
# The ATR profiles were written with before the virtual card answered the real one: it lacked
# TC1 (FF) and the TCK, so OpenSC's ATR table did not know it. Read back as the real one.
OLD_DEFAULT_ATR = bytes.fromhex("3BE0008131FE45")

@dataclass
class KeyPair:
    """A certificate, its issuing CA certificate and the card's private key (PEM)."""

    certificate: bytes
    ca_certificate: bytes
    private_key_pem: bytes

    def to_json(self) -> dict:
        return {
            "certificate": base64.b64encode(self.certificate).decode(),
            "ca_certificate": base64.b64encode(self.ca_certificate).decode(),
            "private_key": self.private_key_pem.decode(),
        }

    @classmethod
    def from_json(cls, data: dict) -> "KeyPair":
        return cls(
            base64.b64decode(data["certificate"]),
            base64.b64decode(data["ca_certificate"]),
            data["private_key"].encode(),
        )


@dataclass
class CardInfo:
    """What the card-info input support AP (券面事項入力補助AP) holds."""

    name: str
    address: str
    birth_date: str  # ASCII YYYYMMDD as on the card
    sex: str  # '1' male, '2' female, '9' not applicable
    my_number: str  # only the virtual card ever touches this


@dataclass
class PinCounters:
    auth_pin: int = AUTH_PIN_TRIES
    signing_password: int = SIGNING_PASSWORD_TRIES
    card_info_pin: int = CARD_INFO_PIN_TRIES


@dataclass
class CardProfile:
    """One virtual card.  ``path`` is where counters are persisted (None: memory only)."""

    auth: KeyPair
    signing: KeyPair | None
    card_info: CardInfo
    pin: str
    password: str
    label: str = "JPKIAPICCTOKEN2"
    atr: bytes = CONTACT_ATR
    extended_length: bool = True
    counters: PinCounters = field(default_factory=PinCounters)
    meta: dict = field(default_factory=dict)  # serials, partition, kana: for people, not the card
    path: Path | None = None

    # -- persistence ---------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "version": PROFILE_VERSION,
            "label": self.label,
            "atr": self.atr.hex(),
            "extended_length": self.extended_length,
            "pin": self.pin,
            "password": self.password,
            "counters": asdict(self.counters),
            "auth": self.auth.to_json(),
            "signing": self.signing.to_json() if self.signing else None,
            "card_info": asdict(self.card_info),
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict, path: Path | None = None) -> "CardProfile":
        return cls(
            auth=KeyPair.from_json(data["auth"]),
            signing=KeyPair.from_json(data["signing"]) if data.get("signing") else None,
            card_info=CardInfo(**data["card_info"]),
            pin=data["pin"],
            password=data["password"],
            label=data.get("label", "JPKIAPICCTOKEN2"),
            atr=_atr(data.get("atr")),
            extended_length=data.get("extended_length", True),
            counters=PinCounters(**data.get("counters", {})),
            meta=data.get("meta", {}),
            path=path,
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CardProfile":
        path = Path(path)
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")), path=path)

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the profile atomically (a crash never leaves half a card)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("profile has no path")
        self.path = target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".profile-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, ensure_ascii=False, indent=1)
        os.replace(tmp, target)
        return target

    def persist_counters(self) -> None:
        """Save after a PIN counter changed, if the profile lives in a file."""
        if self.path is not None:
            self.save()


def _atr(saved: str | None) -> bytes:
    """The profile's ATR: the real card's unless the profile chose another reader's."""
    atr = bytes.fromhex(saved) if saved else CONTACT_ATR
    return CONTACT_ATR if atr == OLD_DEFAULT_ATR else atr
