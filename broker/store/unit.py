"""The unit of work, as Warehouse keeps one per request: a service's operation commits the request's
session once, when it succeeds, and rolls back what it did when it fails.

Pages (``broker.web``, ``broker.admin``) and protocol endpoints never call commit, rollback or begin: they
call a service, and the service wraps each operation that writes in :func:`unit_of_work`. A page that
only reads needs nothing: the request's session is closed, and anything left uncommitted rolled back,
when the request ends (``broker.deps.get_db``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


@contextmanager
def unit_of_work(db: Session) -> Iterator[Session]:
    """Commit ``db`` when the block ends; roll back when it raises (and re-raise)."""
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    db.commit()
