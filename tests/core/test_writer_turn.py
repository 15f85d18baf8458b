"""Writers on one SQLite file queue for its write lock in the kernel (portal.writer_turn)
instead of polling for it in SQLite's busy handler, where a worker that commits and begins
again at once can starve the other for seconds. Another process is the other writer, as a
second gunicorn worker is. (SQLite only: PostgreSQL queues its lock waiters itself.)"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from portal.db import make_engine
from portal.writer_turn import HELD, WriterTurn

OTHER_WORKER = """
import sys
from sqlalchemy import text
from portal.db import make_engine
from portal.writer_turn import HELD, WriterTurn
engine = make_engine(sys.argv[1])
with engine.begin() as conn:          # BEGIN IMMEDIATE: takes the turn first
    conn.execute(text("INSERT INTO written (who) VALUES ('other')"))
"""


def waiters_on(path: Path) -> int:
    """How many lock requests on `path` the kernel holds blocked (/proc/locks '->' lines)."""
    inode = os.stat(path).st_ino
    return sum(1 for line in Path("/proc/locks").read_text().splitlines()
               if "->" in line and line.split()[-3].endswith(f":{inode}"))


def wait_until(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_a_waiting_writer_queues_for_the_lock_and_writes_when_it_is_given_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'turns.sqlite'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE written (n INTEGER PRIMARY KEY, who TEXT)"))
    holder = engine.connect()
    holder.begin()                                  # this worker's write transaction
    holder.execute(text("INSERT INTO written (who) VALUES ('first')"))
    other = subprocess.Popen([sys.executable, "-c", OTHER_WORKER, url],
                             cwd=Path(__file__).parents[2])
    try:
        turn_file = tmp_path / "turns.sqlite-writer.lock"
        assert wait_until(lambda: turn_file.exists() and waiters_on(turn_file) == 1), \
            "the other writer is not queued in the kernel (polling SQLite's busy handler?)"
        holder.commit()                             # gives the turn back
        assert other.wait(timeout=30) == 0
        holder.begin()                              # this worker's next transaction
        holder.execute(text("INSERT INTO written (who) VALUES ('next')"))
        holder.commit()
        order = [who for (who,) in holder.execute(text("SELECT who FROM written ORDER BY n"))]
        assert order == ["first", "other", "next"]
    finally:
        other.kill()
        holder.close()
        engine.dispose()


def test_a_thread_holding_the_turn_never_waits_for_it_on_another_connection(tmp_path):
    """Tests (and a template reading beside its view) hold two connections in one thread:
    the second goes on without the turn its own thread holds, and SQLite decides."""
    turn = WriterTurn(str(tmp_path / "same-thread.sqlite"), timeout=30)
    first, second = {}, {}
    assert turn.take(first) == "taken"
    assert turn.take(second) == "held by this thread"
    assert HELD not in second
    turn.give_back(second)                 # not its own: changes nothing
    assert first[HELD] is turn
    turn.give_back(first)
    assert turn.take(second) == "taken"    # given back: free again
    turn.give_back(second)
