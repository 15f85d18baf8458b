"""Card insertions and removals, fanned out to every Server-Sent-Events subscriber.

A kiosk's portal page subscribes to ``GET /events`` and ends the resident's
session when the card leaves the reader.  One :class:`~smartcard.readers.CardMonitor`
thread watches pcscd; each subscriber gets its own queue so a slow page never
delays another.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

log = logging.getLogger("smartcard.bridge")

MAX_SUBSCRIBERS = 32
QUEUE_SIZE = 64


@dataclass(frozen=True)
class ReaderEvent:
    kind: str  # "inserted" | "removed"
    reader: str


class CardEventHub:
    """Watches the readers (only ``reader`` if given) and publishes :class:`ReaderEvent` s."""

    def __init__(self, reader: str | None = None, poll_s: float = 0.2) -> None:
        self.reader = reader
        self.poll_s = poll_s
        self._subscribers: set[queue.Queue] = set()
        self._present: set[str] = set()
        self._lock = threading.Lock()
        self._monitor = None

    def start(self) -> None:
        """Start watching (loads pyscard; fails with ReaderUnavailable only if pcscd is absent)."""
        from .. import readers
        monitor = readers.CardMonitor(poll_s=self.poll_s)
        with self._lock:
            self._present = self._present_now(readers, monitor.context)
        monitor.start(self._on_event)
        self._monitor = monitor

    def stop(self) -> None:
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor = None
        with self._lock:
            for subscriber in self._subscribers:
                _offer(subscriber, None)  # wake the stream so it ends
            self._subscribers.clear()

    def _present_now(self, readers, context) -> set[str]:
        try:
            states = context.reader_states()
        except Exception:  # pcscd still starting: the monitor reports cards as they appear
            return set()
        return {r for r, state in states.items() if readers.card_present(state) and self._watched(r)}

    def _watched(self, reader: str) -> bool:
        return self.reader is None or reader == self.reader

    def _on_event(self, event) -> None:
        if not self._watched(event.reader):
            return
        published = ReaderEvent(event.kind, event.reader)
        log.info("card %s: %s", event.kind, event.reader)
        with self._lock:
            if event.kind == "inserted":
                self._present.add(event.reader)
            else:
                self._present.discard(event.reader)
            for subscriber in self._subscribers:
                _offer(subscriber, published)

    def present(self) -> list[str]:
        """Watched readers holding a card now (as far as the monitor has seen)."""
        with self._lock:
            return sorted(self._present)

    def subscribe(self) -> queue.Queue | None:
        """A queue of events (None in it = the hub stopped); None if too many subscribers."""
        subscriber: queue.Queue = queue.Queue(QUEUE_SIZE)
        with self._lock:
            if len(self._subscribers) >= MAX_SUBSCRIBERS:
                return None
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: queue.Queue) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)


def _offer(subscriber: queue.Queue, item) -> None:
    try:
        subscriber.put_nowait(item)
    except queue.Full:  # a stalled page: it will miss events, others won't wait for it
        pass
