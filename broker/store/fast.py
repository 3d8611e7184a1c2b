"""Statements for the protocol's hot path (authorize, token, userinfo), run without the ORM.

A statement is written with SQLAlchemy Core against the models' own tables, compiled once per
dialect, and run on the request session's DBAPI connection, inside the session's transaction. The
columns' own bind and result processors convert values both ways, so what is read and written is
exactly what the ORM reads and writes (UTC datetimes, JSON, on SQLite and PostgreSQL alike). What is
skipped is the per-execution machinery of the ORM and of Core, which costs several times the
statement itself (bench/README.md): an ORM ``get`` is about 500 µs of CPU here, this about 100 µs.

Pending changes in the session are flushed first, as the ORM's autoflush does before a query, and
listeners on ``before_cursor_execute`` still see every statement (tests count them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable, visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ClauseElement, ColumnElement

from broker.store.sqlalchemy_internals import before_cursor_execute, new_instance

Row = tuple[Any, ...]
Processor = Callable[[Any], Any] | None
T = TypeVar("T")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: Sequence[str] | None  # the parameters' order for a positional driver (SQLite)
    defaults: dict[str, Any]  # values the statement itself carries (constants in IN lists)
    binds: dict[str, Processor]
    results: tuple[Processor, ...]


def _without_required(statement: Executable) -> ClauseElement:
    """A copy of the statement whose parameters are all optional (their values stay None, which is
    left out of the statement's own values below)."""

    def visit(bind: BindParameter[Any]) -> None:
        bind.required = False  # on the copy, which cloned_traverse makes before visiting

    return visitors.cloned_traverse(
        cast(ClauseElement, statement), {"maintain_key": True}, {"bindparam": visit}
    )


_HELD = "broker.fast.connection"


def _connection(db: Session) -> Connection:
    """The session's connection for its current transaction (asking the session each time costs
    more than some statements)."""
    transaction = db.get_transaction()
    held = db.info.get(_HELD)
    if (
        held is not None
        and transaction is not None
        and held[0] is transaction
        and transaction.is_active
        and held[1].in_transaction()
    ):
        return held[1]  # type: ignore[no-any-return]
    # The session decides: it begins a transaction, or refuses one that failed (PendingRollbackError).
    connection = db.connection()
    db.info[_HELD] = (db.get_transaction(), connection)
    return connection


def _bind_processors(compiled: SQLCompiler, dialect: Dialect) -> dict[str, Processor]:
    """Each parameter's converter (by its name in the SQL), where its type has one."""
    found: dict[str, Processor] = {}
    for bind, name in compiled.bind_names.items():
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            found[name] = convert
    return found


class Statement:
    """A Core statement with named ``bindparam``s, compiled once per dialect."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        # IN lists of constants are rendered as one parameter per value, which needs every other
        # parameter to be optional at compile time (it changes no SQL).
        statement = _without_required(self.statement)
        compiled = cast(
            SQLCompiler, statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        )
        columns: Sequence[ColumnElement[Any]] = (
            getattr(self.statement, "selected_columns", None)
            or getattr(self.statement, "_returning", None)
            or ()
        )
        done = _Compiled(
            sql=compiled.string,
            names=compiled.positiontup if compiled.positional else None,
            defaults={k: v for k, v in compiled.construct_params().items() if v is not None},
            # the columns' own converters, as the ORM applies them
            binds=_bind_processors(compiled, dialect),
            results=tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns),
        )
        self._compiled[dialect.name] = done
        return done

    def _execute(self, db: Session, params: dict[str, Any]) -> Any:
        if db.autoflush:
            db.flush()  # as the ORM does before a query: rows added in this session are visible
        connection = _connection(db)
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name) or self._compile(dialect)
        values = {**compiled.defaults, **params} if compiled.defaults else dict(params)
        for name, convert in compiled.binds.items():
            value = values.get(name)
            if convert is not None and value is not None:
                values[name] = convert(value)
        args: Any = [values[n] for n in compiled.names] if compiled.names is not None else values
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            before_cursor_execute(connection, cursor, compiled.sql, args)
            cursor.execute(compiled.sql, args)
        except dialect.loaded_dbapi.Error as error:
            cursor.close()
            # The same exceptions as through the ORM (IntegrityError, OperationalError, ...).
            raise DBAPIError.instance(compiled.sql, args, error, dialect.loaded_dbapi.Error) from error
        except BaseException:
            cursor.close()
            raise
        return cursor, compiled

    def rows(self, db: Session, **params: Any) -> list[Row]:
        cursor, compiled = self._execute(db, params)
        try:
            fetched = cursor.fetchall() if compiled.results else []
        finally:
            cursor.close()
        if not any(compiled.results):
            return [tuple(row) for row in fetched]
        # Only some columns convert (datetimes, JSON on SQLite): the rest pass as the driver gave them.
        return [
            tuple(
                convert(value) if convert else value
                for convert, value in zip(compiled.results, row, strict=True)
            )
            for row in fetched
        ]

    def first(self, db: Session, **params: Any) -> Row | None:
        found = self.rows(db, **params)
        return found[0] if found else None

    def run(self, db: Session, **params: Any) -> int:
        """For INSERT, UPDATE and DELETE without RETURNING: the number of rows it touched."""
        cursor, _ = self._execute(db, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()


_COLUMNS: dict[type[Any], tuple[str, ...]] = {}


def columns(model: type[Any]) -> tuple[str, ...]:
    """The model's column attributes, in table order (the order ``select(*table.columns)`` reads)."""
    found = _COLUMNS.get(model)
    if found is None:
        found = _COLUMNS[model] = tuple(c.key for c in model.__table__.columns)
    return found


def inserting(model: type[Any]) -> Statement:
    """INSERT of one whole row, every column a parameter of its own name."""
    return Statement(insert(model).values({c: bindparam(c) for c in columns(model)}))


def instance(model: type[T], values: Sequence[Any]) -> T:
    """A model instance holding a row read here. It is not in the session: it is for reading, and a
    change made to it is not saved (write with a statement). Its attributes are filled in as the
    ORM's own loader fills them (straight into the instance's dict, no change events)."""
    made = new_instance(model)
    made.__dict__.update(zip(columns(model), values, strict=True))
    return made


def instances(row: Sequence[Any], *models: type[Any]) -> list[Any]:
    """A joined row cut back into one instance per model (None where an outer join found none)."""
    out: list[Any] = []
    start = 0
    for model in models:
        part = row[start : start + len(columns(model))]
        start += len(part)
        out.append(None if part[0] is None else instance(model, part))
    return out
