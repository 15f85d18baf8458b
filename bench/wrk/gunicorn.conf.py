"""gunicorn settings for bench/load.py: the portal's own (portal/gunicorn.conf.py) plus one
server hook that counts requests, SQL statements and transactions in each worker.

The counters live only here: `post_worker_init` adds SQLAlchemy engine listeners to the
worker's app and wraps its WSGI callable, so the portal's request path carries none of
this outside the benchmark. Each worker writes its totals after every request into its own
slot of a file shared with bench/load.py (MADOGUCHI_BENCH_COUNTERS), which reads the file
before and after each wrk run. A sync worker serves one request at a time, so a slot has
one writer and needs no lock."""
import mmap
import os
import runpy
import struct
from pathlib import Path

globals().update({k: v for k, v in runpy.run_path(
    str(Path(__file__).resolve().parents[2] / "portal" / "gunicorn.conf.py")).items()
    if not k.startswith("__")})

# A run lasts seconds; a recycled worker would lose its warm caches in the middle of one.
max_requests = 0
accesslog = None   # the log line costs the same in every row; wrk counts the requests

SLOTS, FIELDS = 64, 3           # per worker: requests, statements, transactions
SLOT = struct.Struct("<%dq" % FIELDS)
COUNTERS_SIZE = SLOTS * SLOT.size


def post_worker_init(worker):
    path = os.environ.get("MADOGUCHI_BENCH_COUNTERS")
    if not path:
        return
    from sqlalchemy import event
    handle = open(path, "r+b")
    shared = mmap.mmap(handle.fileno(), COUNTERS_SIZE)
    offset = (worker.age % SLOTS) * SLOT.size
    totals = [0] * FIELDS
    engine = worker.wsgi.extensions["madoguchi.db"].engine

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(_conn, _cursor, statement, _params, _context, _many):
        if not statement.lstrip().upper().startswith("BEGIN"):  # counted as a transaction
            totals[1] += 1

    @event.listens_for(engine, "begin")
    def _transaction(_conn):
        totals[2] += 1

    app = worker.wsgi

    def counted(environ, start_response):
        try:
            return app(environ, start_response)
        finally:
            totals[0] += 1
            SLOT.pack_into(shared, offset, *totals)

    worker.wsgi = counted
