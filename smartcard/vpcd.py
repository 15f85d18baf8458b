"""Serve a virtual My Number card to a real pcscd through the vpcd driver.

vpcd (Debian package ``vsmartcard-vpcd``) makes pcscd listen on TCP ports
(35963, 35964, … one per virtual reader).  The card side connects as a
client; frames are a 2-byte big-endian length + payload; a 1-byte payload is
a control code (0 power off, 1 power on, 2 reset, 4 get ATR).  Connecting
means "card inserted", closing the connection means "card removed".
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from .profile import CardProfile
from .virtual import VirtualMyNumberCard

log = logging.getLogger(__name__)

VPCD_HOST = "127.0.0.1"
VPCD_PORTS = (35963, 35964)  # the two readers of Debian's /etc/reader.conf.d/vpcd
CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET, CTRL_GET_ATR = 0, 1, 2, 4
RECONNECT_INTERVAL_S = 0.2
GARBLED_ANSWER = b"\xa5"  # one byte: no status word, no sense


class VirtualCardServer:
    """A virtual card in a virtual reader, run in a background thread.

    >>> server = VirtualCardServer(profile, port=35963).start()
    >>> server.remove(); server.insert(); server.stop()

    ``latency_s`` delays every APDU answer (set it any time).  Faults:
    :meth:`garble_next` answers nonsense, :meth:`drop_after` pulls the card
    out in the middle of an APDU (the APDU is not executed).  If pcscd goes
    away the server keeps reconnecting while the card is "inserted".
    """

    def __init__(self, card: VirtualMyNumberCard | CardProfile, *, host: str = VPCD_HOST,
                 port: int = VPCD_PORTS[0], latency_s: float = 0.0) -> None:
        self.card = card if isinstance(card, VirtualMyNumberCard) else VirtualMyNumberCard(card)
        self.host, self.port, self.latency_s = host, port, latency_s
        self.apdu_count = 0
        self._inserted = threading.Event()
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._garble = 0
        self._drop_after: int | None = None
        self._thread: threading.Thread | None = None

    # -- control ---------------------------------------------------------------------------

    def start(self, inserted: bool = True) -> "VirtualCardServer":
        if inserted:
            self._inserted.set()
        self._thread = threading.Thread(target=self._run, name=f"vpcd-card-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.remove()
        self._inserted.set()  # wake the loop so it sees _stopping
        if self._thread:
            self._thread.join(timeout=5)

    def insert(self, wait_s: float | None = 5.0) -> None:
        """Put the card in the reader (connect to vpcd); wait for the connection."""
        self._inserted.set()
        if wait_s and not self._connected.wait(wait_s):
            raise TimeoutError(f"vpcd on port {self.port} did not accept the card")

    def remove(self) -> None:
        """Take the card out (close the connection); pcscd notices on its next poll."""
        self._inserted.clear()
        self._close()

    def garble_next(self, count: int = 1) -> None:
        self._garble = count

    def drop_after(self, apdus: int) -> None:
        """Remove the card when the ``apdus``-th APDU from now arrives (unanswered, unexecuted)."""
        self._drop_after = self.apdu_count + apdus

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float = 5.0) -> bool:
        return self._connected.wait(timeout)

    def __enter__(self) -> "VirtualCardServer":
        return self.start() if self._thread is None else self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- the connection loop --------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._inserted.wait(0.5):
                continue
            if self._stopping.is_set():
                break
            sock = self._connect()
            if sock is None:
                time.sleep(RECONNECT_INTERVAL_S)  # pcscd not (yet) listening: it may be restarting
                continue
            try:
                self._serve(sock)
            except OSError as exc:
                log.debug("vpcd connection on %s ended: %s", self.port, exc)
            finally:
                self._close()

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=2)
        except OSError:
            return None
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sock = sock
        self.card.reset()
        self._connected.set()
        return sock

    def _close(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
        self._connected.clear()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _serve(self, sock: socket.socket) -> None:
        while True:
            payload = _receive_frame(sock)
            if payload is None:
                return
            if len(payload) == 1:
                self._control(sock, payload[0])
                continue
            answer = self._answer_apdu(payload)
            if answer is None:  # dropped: the card left in mid-command
                self._inserted.clear()
                return
            _send_frame(sock, answer)

    def _control(self, sock: socket.socket, code: int) -> None:
        if code in (CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET):
            self.card.reset()
        elif code == CTRL_GET_ATR:
            _send_frame(sock, self.card.atr)

    def _answer_apdu(self, apdu: bytes) -> bytes | None:
        self.apdu_count += 1
        if self._drop_after is not None and self.apdu_count >= self._drop_after:
            self._drop_after = None
            return None
        if self.latency_s:
            time.sleep(self.latency_s)
        if self._garble:
            self._garble -= 1
            return GARBLED_ANSWER
        return self.card.process(apdu)


def _receive_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        _quick_ack(sock)
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _quick_ack(sock: socket.socket) -> None:
    # vpcd writes the length and the payload in two small writes; with Nagle
    # on its side and delayed ACKs on ours every APDU would wait ~40 ms.
    # Linux forgets TCP_QUICKACK after a while, so set it before every read.
    if hasattr(socket, "TCP_QUICKACK"):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except OSError:
            pass


def _receive_frame(sock: socket.socket) -> bytes | None:
    header = _receive_exactly(sock, 2)
    if header is None:
        return None
    return _receive_exactly(sock, int.from_bytes(header, "big"))


def _send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(len(payload).to_bytes(2, "big") + payload)
