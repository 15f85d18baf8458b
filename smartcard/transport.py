"""Transports: how APDU bytes reach a card.

One small interface (:class:`Transport`) with a PC/SC implementation
(:mod:`smartcard.readers`) and an in-process one straight to a
:class:`~smartcard.virtual.VirtualMyNumberCard` for fast tests.
"""

from __future__ import annotations

import abc
import time
from typing import TYPE_CHECKING

from . import errors

if TYPE_CHECKING:  # pragma: no cover
    from .virtual import VirtualMyNumberCard


class Transport(abc.ABC):
    """Moves command APDUs to a card and answers back.  Usable as a context manager."""

    #: True/False if known whether extended-length APDUs get through; None: unknown.
    supports_extended: bool | None = None

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the session with the card (power it if needed)."""

    @abc.abstractmethod
    def disconnect(self) -> None:
        """Close the session; safe to call twice."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Warm-reset the card: every applet deselected, every PIN unverified."""

    @abc.abstractmethod
    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; return response data + SW1 SW2."""

    @property
    def atr(self) -> bytes:
        return b""

    def __enter__(self) -> "Transport":
        self.connect()
        return self

    def __exit__(self, *exc_info) -> None:
        self.disconnect()


class InProcessTransport(Transport):
    """Straight to a virtual card in this process; optional per-APDU latency."""

    def __init__(self, card: "VirtualMyNumberCard | None", *, latency_s: float = 0.0,
                 supports_extended: bool | None = True) -> None:
        self.card = card
        self.latency_s = latency_s
        self.supports_extended = supports_extended
        self.connected = False

    @property
    def atr(self) -> bytes:
        return self.card.atr if self.card else b""

    def insert(self, card: "VirtualMyNumberCard") -> None:
        self.card = card
        card.reset()

    def remove(self) -> None:
        self.card = None

    def connect(self) -> None:
        if self.card is None:
            raise errors.NoCard()
        self.card.reset()
        self.connected = True

    def disconnect(self) -> None:
        self.connected = False

    def reset(self) -> None:
        self._require_card().reset()

    def transmit(self, apdu: bytes) -> bytes:
        card = self._require_card()
        if self.latency_s:
            time.sleep(self.latency_s)
        return card.process(apdu)

    def _require_card(self) -> "VirtualMyNumberCard":
        if self.card is None:
            raise errors.CardRemoved()
        if not self.connected:
            raise errors.CardError("transport not connected")
        return self.card


class RecordingTransport(Transport):
    """Wraps another transport and keeps every APDU exchanged (tests, benchmarks)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[bytes, bytes]] = []

    @property
    def supports_extended(self) -> bool | None:  # type: ignore[override]
        return self.inner.supports_extended

    @property
    def atr(self) -> bytes:
        return self.inner.atr

    @property
    def commands(self) -> list[bytes]:
        return [command for command, _ in self.exchanges]

    def connect(self) -> None:
        self.inner.connect()

    def disconnect(self) -> None:
        self.inner.disconnect()

    def reset(self) -> None:
        self.inner.reset()

    def transmit(self, apdu: bytes) -> bytes:
        answer = self.inner.transmit(apdu)
        self.exchanges.append((bytes(apdu), bytes(answer)))
        return answer
