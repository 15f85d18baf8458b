"""PC/SC readers through pyscard: listing, waiting, events, and a transport.

pyscard is imported here, lazily, and only its low-level ``scard`` module is
used.  Installed, this package is ``madoguchi_smartcard`` and the top-level
``smartcard`` is pyscard's alone.  Run from the source tree (its root first on
``sys.path``), the folder ``smartcard/`` shadows pyscard's package of that name:
then pyscard's directory is added to the shadow's search path at first use so
``smartcard.scard`` still resolves to pyscard's extension module.

When pcscd restarts, every context and card handle dies with it
(SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED, SCARD_E_INVALID_HANDLE …):
:class:`PcscContext` re-establishes its context on the next call, so the next
operation works without restarting the program.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from . import errors
from .jpki import JPKICard
from .transport import Transport

# pcscd polls vpcd (and serial readers) every 400 ms: a removal is visible
# within that, so one second is enough to tell a pulled card from a garbled answer.
REMOVAL_GRACE_S = 1.0

_scard_module = None
_import_lock = threading.Lock()

# Card state we care about: present and answering (a mute card is not usable).
SERVICE_GONE_NAMES = ("SCARD_E_NO_SERVICE", "SCARD_E_SERVICE_STOPPED", "SCARD_E_INVALID_HANDLE",
                      "SCARD_E_INVALID_PARAMETER", "SCARD_E_NO_READERS_AVAILABLE")
CARD_GONE_NAMES = ("SCARD_W_REMOVED_CARD", "SCARD_E_NO_SMARTCARD", "SCARD_W_RESET_CARD",
                   "SCARD_W_UNPOWERED_CARD", "SCARD_W_UNRESPONSIVE_CARD")
READER_GONE_NAMES = ("SCARD_E_UNKNOWN_READER", "SCARD_E_READER_UNAVAILABLE")


def scard():
    """pyscard's low-level module, imported on first use."""
    global _scard_module
    with _import_lock:
        if _scard_module is None:
            _scard_module = _import_pyscard_scard()
    return _scard_module


def _import_pyscard_scard():
    try:
        return importlib.import_module("smartcard.scard")
    except ImportError:
        pass
    directory = _pyscard_directory()
    if directory is None:
        raise errors.ReaderUnavailable("pyscard is not installed (pip install pyscard, or apt install python3-pyscard)")
    import smartcard as shadow  # the source tree's folder, imported under pyscard's name
    shadow.__path__.append(str(directory))
    return importlib.import_module("smartcard.scard")


def _pyscard_directory() -> Path | None:
    try:
        found = Path(str(importlib.metadata.distribution("pyscard").locate_file("smartcard")))
    except importlib.metadata.PackageNotFoundError:
        return None
    return found if (found / "scard").is_dir() else None


def _codes(names: tuple[str, ...]) -> set[int]:
    module = scard()
    return {_unsigned(getattr(module, name)) for name in names if hasattr(module, name)}


def _unsigned(code: int) -> int:
    return code & 0xFFFFFFFF


def error_text(code: int) -> str:
    try:
        return f"{scard().SCardGetErrorMessage(code)} (0x{_unsigned(code):08X})"
    except Exception:  # the message is only for logs; never hide the real error
        return f"0x{_unsigned(code):08X}"


class PcscContext:
    """An SCARDCONTEXT that heals itself after pcscd restarts.  Thread-safe."""

    def __init__(self) -> None:
        self._handle = None
        self._lock = threading.RLock()

    def handle(self):
        with self._lock:
            if self._handle is None:
                code, handle = scard().SCardEstablishContext(scard().SCARD_SCOPE_USER)
                if code != 0:
                    raise errors.ReaderUnavailable(f"cannot reach pcscd: {error_text(code)}")
                self._handle = handle
            return self._handle

    def invalidate(self) -> None:
        """Forget the context (pcscd went away); the next call establishes a new one."""
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            try:
                scard().SCardReleaseContext(handle)
            except Exception:  # a dead context may not even release: nothing to do
                pass

    def release(self) -> None:
        self.invalidate()

    def call(self, function: Callable, *args):
        """Call an SCard function taking the context first; retry once on a fresh context."""
        result = function(self.handle(), *args)
        if _unsigned(_hresult(result)) in _codes(SERVICE_GONE_NAMES[:3]):
            self.invalidate()
            result = function(self.handle(), *args)
        return result

    def list_readers(self) -> list[str]:
        """Reader names, [] if there are none."""
        result = self.call(scard().SCardListReaders, [])
        code, readers = result
        if _unsigned(code) == _unsigned(scard().SCARD_E_NO_READERS_AVAILABLE):
            return []
        if code != 0:
            self.invalidate()
            raise errors.ReaderUnavailable(error_text(code))
        return list(readers)

    def reader_states(self, known: dict[str, int] | None = None, timeout_s: float = 0.0) -> dict[str, int]:
        """Current event state of every reader; waits up to ``timeout_s`` for a change from ``known``."""
        module = scard()
        readers = self.list_readers()
        if not readers:
            if timeout_s:
                time.sleep(min(timeout_s, 0.5))  # readers may come back (hotplug, pcscd restart)
            return {}
        wanted = [(r, (known or {}).get(r, module.SCARD_STATE_UNAWARE)) for r in readers]
        code, states = self.call(module.SCardGetStatusChange, int(timeout_s * 1000), wanted)
        if _unsigned(code) == _unsigned(module.SCARD_E_TIMEOUT):
            return {r: s for r, s in wanted}
        if code != 0:
            self.invalidate()
            raise errors.ReaderUnavailable(error_text(code))
        return {reader: state & ~module.SCARD_STATE_CHANGED for reader, state, _atr in states}


def _hresult(result) -> int:
    return result[0] if isinstance(result, (tuple, list)) else result


def card_present(state: int) -> bool:
    module = scard()
    return bool(state & module.SCARD_STATE_PRESENT) and not state & module.SCARD_STATE_MUTE


_default_context: PcscContext | None = None


def default_context() -> PcscContext:
    global _default_context
    if _default_context is None:
        _default_context = PcscContext()
    return _default_context


def list_readers(context: PcscContext | None = None) -> list[str]:
    """Names of the PC/SC readers (e.g. 'Virtual PCD 00 00')."""
    return (context or default_context()).list_readers()


def wait_for_card(reader: str | None = None, timeout_s: float = 30.0,
                  context: PcscContext | None = None) -> str:
    """Wait until a card is in ``reader`` (or in any reader); return the reader's name.

    Survives pcscd restarts while waiting.  Raises :class:`errors.CardTimeout`.
    """
    context = context or default_context()
    deadline = time.monotonic() + timeout_s
    known: dict[str, int] = {}
    while True:
        try:
            known = context.reader_states(known, timeout_s=0 if not known else _poll(deadline))
        except errors.ReaderUnavailable:
            context.invalidate()
            known = {}
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        for name, state in known.items():
            if (reader is None or name == reader) and card_present(state):
                return name
        if time.monotonic() >= deadline:
            raise errors.CardTimeout(f"no card within {timeout_s:.1f} s")


def _poll(deadline: float) -> float:
    return max(0.0, min(0.5, deadline - time.monotonic()))


def wait_for_removal(reader: str, timeout_s: float = 30.0, context: PcscContext | None = None) -> None:
    """Wait until ``reader`` has no card (kiosk: end the session the moment the card leaves)."""
    context = context or default_context()
    deadline = time.monotonic() + timeout_s
    known: dict[str, int] = {}
    while True:
        try:
            known = context.reader_states(known, timeout_s=0 if not known else _poll(deadline))
        except errors.ReaderUnavailable:
            context.invalidate()
            known = {}
        if reader not in known or not card_present(known[reader]):
            if known or time.monotonic() >= deadline:
                return
        if time.monotonic() >= deadline:
            raise errors.CardTimeout(f"card still in {reader} after {timeout_s:.1f} s")


@dataclass(frozen=True)
class CardEvent:
    """A card put in (``inserted``) or taken out (``removed``) of a reader."""

    kind: str  # "inserted" | "removed"
    reader: str


class CardMonitor:
    """Reports card insertion and removal, as a generator or to an observer callback.

    Readers that vanish (unplugged, pcscd restarting) count as "removed"; when
    they come back with a card, "inserted".  The context is re-established as
    needed, so monitoring outlives pcscd restarts.
    """

    def __init__(self, context: PcscContext | None = None, poll_s: float = 0.5) -> None:
        self.context = context or PcscContext()
        self.poll_s = poll_s
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def events(self, timeout_s: float | None = None, stop: threading.Event | None = None,
               initial: bool = False) -> Iterator[CardEvent]:
        """Yield events until ``timeout_s`` passes or ``stop`` is set.

        ``initial``: also report the cards already present when monitoring starts.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        present: set[str] = set() if initial else self._present_now()
        known: dict[str, int] = {}
        while not (stop and stop.is_set()) and (deadline is None or time.monotonic() < deadline):
            known = self._states(known)
            now_present = {r for r, s in known.items() if card_present(s)}
            for reader in sorted(now_present - present):
                yield CardEvent("inserted", reader)
            for reader in sorted(present - now_present):
                yield CardEvent("removed", reader)
            present = now_present

    def _present_now(self) -> set[str]:
        try:
            return {r for r, s in self.context.reader_states().items() if card_present(s)}
        except errors.ReaderUnavailable:
            return set()

    def _states(self, known: dict[str, int]) -> dict[str, int]:
        try:
            return self.context.reader_states(known, timeout_s=self.poll_s)
        except errors.ReaderUnavailable:
            self.context.invalidate()
            time.sleep(self.poll_s)  # pcscd is (re)starting
            return {}

    def start(self, observer: Callable[[CardEvent], None]) -> None:
        """Call ``observer(event)`` from a background thread until :meth:`stop`."""
        self._stop.clear()

        def run() -> None:
            for event in self.events(stop=self._stop):
                observer(event)

        self._thread = threading.Thread(target=run, name="card-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)


class PcscTransport(Transport):
    """A card in a PC/SC reader.  ``supports_extended``: None = let JPKICard detect it."""

    def __init__(self, reader: str, context: PcscContext | None = None, *,
                 supports_extended: bool | None = None) -> None:
        self.reader = reader
        self.context = context or default_context()
        self.supports_extended = supports_extended
        self._card = None
        self._protocol = None
        self._atr = b""

    @property
    def atr(self) -> bytes:
        return self._atr

    def connect(self) -> None:
        module = scard()
        code, card, protocol = self.context.call(
            module.SCardConnect, self.reader, module.SCARD_SHARE_SHARED,
            module.SCARD_PROTOCOL_T0 | module.SCARD_PROTOCOL_T1)
        if code != 0:
            raise self._connect_error(code)
        self._card, self._protocol = card, protocol
        self._atr = self._read_atr()

    def _read_atr(self) -> bytes:
        code, _reader, _state, _protocol, atr = scard().SCardStatus(self._card)
        return bytes(atr) if code == 0 else b""

    def _connect_error(self, code: int) -> errors.CardError:
        code = _unsigned(code)
        if code in _codes(CARD_GONE_NAMES):
            return errors.NoCard(error_text(code))
        if code in _codes(READER_GONE_NAMES + SERVICE_GONE_NAMES):
            self.context.invalidate()
            return errors.ReaderUnavailable(error_text(code))
        return errors.ReaderError(error_text(code))

    def disconnect(self) -> None:
        card, self._card = self._card, None
        if card is not None:
            try:
                scard().SCardDisconnect(card, scard().SCARD_LEAVE_CARD)
            except Exception:  # the handle may already be dead (card or pcscd gone)
                pass

    def reset(self) -> None:
        module = scard()
        code, protocol = module.SCardReconnect(self._require(), module.SCARD_SHARE_SHARED,
                                               module.SCARD_PROTOCOL_T0 | module.SCARD_PROTOCOL_T1,
                                               module.SCARD_RESET_CARD)
        if code != 0:
            raise self._transmit_error(code)
        self._protocol = protocol

    def transmit(self, apdu: bytes) -> bytes:
        code, answer = scard().SCardTransmit(self._require(), self._protocol, list(apdu))
        if code != 0:
            raise self._transmit_error(code)
        if len(answer) < 2 and self._removed_meanwhile():
            # vpcd hands back an empty answer when the card leaves mid-command.
            self.disconnect()
            raise errors.CardRemoved("answer without status word; card gone")
        return bytes(answer)

    def _removed_meanwhile(self, within_s: float = REMOVAL_GRACE_S) -> bool:
        """Did the card leave?  Waits up to ``within_s`` for pcscd's next poll to tell."""
        deadline = time.monotonic() + within_s
        known: dict[str, int] = {}
        while True:
            try:
                known = self.context.reader_states(known, timeout_s=_poll(deadline) if known else 0)
            except errors.CardError:
                return True
            if not card_present(known.get(self.reader, 0)):
                return True
            if time.monotonic() >= deadline:
                return False

    def _require(self):
        if self._card is None:
            raise errors.NoCard("not connected")
        return self._card

    def _transmit_error(self, code: int) -> errors.CardError:
        code = _unsigned(code)
        if code in _codes(CARD_GONE_NAMES):
            self.disconnect()
            return errors.CardRemoved(error_text(code))
        if code in _codes(SERVICE_GONE_NAMES + READER_GONE_NAMES):
            self._card = None
            self.context.invalidate()
            return errors.ReaderUnavailable(error_text(code))
        if not self._still_present():
            # vpcd and some readers report a vanished card as a failed transfer.
            self.disconnect()
            return errors.CardRemoved(error_text(code))
        return errors.ReaderError(error_text(code))

    def _still_present(self) -> bool:
        try:
            states = self.context.reader_states()
        except errors.CardError:
            return False
        return card_present(states.get(self.reader, 0))


def find_mynumber_readers(context: PcscContext | None = None) -> list[str]:
    """Readers holding a card that answers the JPKI AP select (recognised by AID, not ATR)."""
    context = context or default_context()
    found = []
    for reader, state in context.reader_states().items():
        if card_present(state) and _holds_mynumber_card(reader, context):
            found.append(reader)
    return found


def _holds_mynumber_card(reader: str, context: PcscContext) -> bool:
    transport = PcscTransport(reader, context)
    try:
        with transport:
            return JPKICard(transport).is_mynumber_card()
    except errors.CardError:
        return False


@contextmanager
def open_card(reader: str | None = None, *, timeout_s: float = 30.0, context: PcscContext | None = None,
              extended_reads: bool | None = None) -> Iterator[JPKICard]:
    """Wait for a card, connect, check it is a My Number card, yield a :class:`JPKICard`."""
    context = context or default_context()
    name = wait_for_card(reader, timeout_s, context)
    transport = PcscTransport(name, context)
    transport.connect()
    try:
        card = JPKICard(transport, extended_reads=extended_reads)
        card.select_jpki()
        yield card
    finally:
        transport.disconnect()
