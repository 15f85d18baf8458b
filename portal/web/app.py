"""The portal's Flask class: every request runs in one unit of work (portal.unit_of_work),
which the framework — not the view — commits after the view has answered, or rolls back
when the request ended in an exception. A safe-method request whose own write lost
SQLite's snapshot race is run once more."""
from __future__ import annotations

from flask import Flask, g, request

from portal.unit_of_work import SAFE_METHODS, RetryUnitOfWork, UnitOfWork, is_busy_snapshot


class Portal(Flask):

    def full_dispatch_request(self):
        try:
            return self._dispatch_in_unit_of_work()
        except RetryUnitOfWork as retry:
            _forget_attempt()
            g.uow_retried = True
            try:
                return self._dispatch_in_unit_of_work()
            except RetryUnitOfWork:
                # twice unlucky: the database is too busy — the usual 503
                return self.finalize_request(self.handle_user_exception(retry.__cause__),
                                             from_error_handler=True)

    def _dispatch_in_unit_of_work(self):
        g.dispatching = True  # from here on, Database.transaction() is a part of this unit
        response = super().full_dispatch_request()
        work = g.get("uow")
        if work is None:
            return response
        try:
            work.finish()
        except RetryUnitOfWork:
            if _may_retry():
                raise
            work.doomed = True
            return self.finalize_request(self.handle_user_exception(_cause()),
                                         from_error_handler=True)
        except Exception as error:  # the commit failed: nothing was written; say so
            return self.finalize_request(self.handle_user_exception(error),
                                         from_error_handler=True)
        return response

    def handle_user_exception(self, e):
        work = g.get("uow")
        if work is not None:
            work.doom()
            if is_busy_snapshot(e) and _may_retry():
                raise RetryUnitOfWork() from e
        return super().handle_user_exception(e)


def _may_retry() -> bool:
    return request.method in SAFE_METHODS and not g.get("uow_retried")


def _cause():
    from sqlalchemy.exc import OperationalError
    return OperationalError("commit", {}, Exception("database is busy"))


def _forget_attempt() -> None:
    work = g.pop("uow", None)
    if work is not None:
        work.close()
    for name in ("city_branding", "municipality"):
        g.pop(name, None)


def request_unit(database) -> UnitOfWork:
    """The request's unit of work, begun on first use."""
    work = g.get("uow")
    if work is None:
        work = g.uow = UnitOfWork(database, None, actor=None,
                                  may_write=request.method not in SAFE_METHODS,
                                  path=request.path)
    return work


def close_request_unit(_exc=None) -> None:
    """Teardown: a unit of work not finished (the dispatch itself failed) is rolled back."""
    work = g.pop("uow", None)
    if work is not None:
        work.close()
