"""Writers on one SQLite file take turns, in the order they asked.

SQLite has one write lock. A connection that finds it taken waits in SQLite's busy
handler, which polls: it sleeps 1, 2, 5 … 100 ms between tries and never queues. Two
gunicorn workers writing back to back starve each other: the one that just committed
begins its next transaction within a millisecond, while the other sleeps through the
gap. bench/load.py saw the terminal payment at p99 1,402 ms against a p50 of 235 ms.

So, before a transaction takes SQLite's write lock, it takes the *turn*: a lock the
kernel hands to the next waiter as soon as it is released (an fcntl lock on a file beside
the database, held by the process; a thread lock inside the process). The turn is given
back when the transaction ends. SQLite's own locking stays in charge of correctness; the
turn only orders the waiting.

Never a deadlock: the turn is taken before any write of the transaction, so whoever waits
for it holds no write lock; a thread that already holds the turn through another
connection (tests do that) goes on without it and leaves the waiting to SQLite; a thread
that cannot get it within the busy timeout does the same.
"""
from __future__ import annotations

import fcntl
import os
import threading

HELD = "madoguchi.writer_turn"   # in the DBAPI connection's info while it holds the turn


class WriterTurn:
    """The turn of one SQLite file, shared by every connection of a process."""

    def __init__(self, database_path: str, timeout: float) -> None:
        self.path = database_path + "-writer.lock"
        self.timeout = timeout
        self._thread_lock = threading.Lock()
        self._owner: int | None = None     # the thread holding the turn
        self._fd: int | None = None
        self._pid: int | None = None       # a forked worker opens its own descriptor

    def take(self, info: dict) -> str:
        """Wait for the turn and mark `info` (a connection's) as holding it. Goes on
        without it when this thread already holds it or the wait outlasts the timeout."""
        if info.get(HELD) is self:
            return "held"
        if self._owner == threading.get_ident():
            return "held by this thread"
        if not self._thread_lock.acquire(timeout=self.timeout):
            return "timed out"
        try:
            fcntl.lockf(self._descriptor(), fcntl.LOCK_EX)
        except OSError:
            self._thread_lock.release()
            return "no lock file"
        self._owner = threading.get_ident()
        info[HELD] = self
        return "taken"

    def give_back(self, info: dict) -> None:
        if info.pop(HELD, None) is not self:
            return
        self._owner = None
        try:
            fcntl.lockf(self._descriptor(), fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _descriptor(self) -> int:
        if self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd


def give_back(info: dict) -> None:
    """End of a transaction (commit, rollback, a connection reset): give the turn back."""
    turn = info.get(HELD)
    if turn is not None:
        turn.give_back(info)
