"""The one place the broker uses SQLAlchemy's private API, and why.

broker/store/fast.py runs the protocol's hot-path statements on the DBAPI cursor, skipping Core's and
the ORM's per-execution machinery (bench/README.md). Two things it needs have no public form:

- calling the ``before_cursor_execute`` listeners of a connection (as Core does before each
  statement: tests and metrics count statements through them); a public ``event.listen`` adds them,
  but only the dispatcher, ``Connection.dispatch``, can call them;
- making a model instance for a row without ``__init__`` and without change events, as the ORM's
  loader does (``ClassManager.new_instance``).

tests/store/test_sqlalchemy_internals.py fails, naming the SQLAlchemy version, when an upgrade
changes either; then this module, and only it, needs changing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.orm.instrumentation import manager_of_class

T = TypeVar("T")


def before_cursor_execute(connection: Connection, cursor: Any, statement: str, parameters: Any) -> None:
    """Call the connection's ``before_cursor_execute`` listeners, as Core does (not executemany)."""
    listeners = connection.dispatch.before_cursor_execute
    if listeners:
        for listener in listeners:
            listener(connection, cursor, statement, parameters, None, False)


def new_instance(model: type[T]) -> T:
    """An empty instance of a mapped class with its ORM state, as the ORM's loader makes one."""
    made: T = manager_of_class(model).new_instance()
    return made
