"""Engine and session factory, at process scope; one transaction per use case.

Use cases receive a ``Session`` already inside a transaction and never commit;
the entry point opens it with ``Database.transaction()``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, inspect
from sqlalchemy.orm import Session, sessionmaker

from intake_service.models import Base


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; the busy timeout makes concurrent
    # writers wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _on_sqlite_begin_read(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def _on_sqlite_begin(connection: Any) -> None:
    # Take the write lock when the transaction starts, not at its first write:
    # otherwise two deferred transactions that both read then write deadlock.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The engine and its session factory for one database URL."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine: Engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "isolation_level": None},
                **engine_options,
            )
            event.listen(self.engine, "connect", _on_sqlite_connect)
            event.listen(self.engine, "begin", _on_sqlite_begin)
            # Reads that never write (live pages polling) must not queue for the write lock.
            self.read_engine: Engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "isolation_level": None},
                **engine_options,
            )
            event.listen(self.read_engine, "connect", _on_sqlite_connect)
            event.listen(self.read_engine, "begin", _on_sqlite_begin_read)
        else:
            engine_options.setdefault("pool_pre_ping", True)
            engine_options.setdefault("pool_size", 10)
            engine_options.setdefault("max_overflow", 20)
            self.engine = create_engine(url, **engine_options)
            self.read_engine = self.engine
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One session in one transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads (on SQLite it does not take the write lock)."""
        with self.read_sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()


def _row_values(obj: Any) -> dict[str, Any] | None:
    """The row of a pending object as column → value, or None if only a flush can tell."""
    mapper = inspect(obj).mapper
    values: dict[str, Any] = {}
    for column in obj.__table__.columns:
        value = getattr(obj, mapper.get_property_by_column(column).key)
        if value is None:
            if column.primary_key and column.autoincrement in (True, "auto"):
                continue  # the database's serial
            default = column.default
            if default is not None:
                if not default.is_scalar:
                    return None
                value = default.arg
            elif not column.nullable:
                return None
        values[column.name] = value
    return values


def write_pending(session: Session) -> None:
    """Write the session's new objects now: on PostgreSQL in one statement, else by a flush.

    The ORM's flush sends one INSERT per table, each waiting for the database; on
    PostgreSQL the rows of a use case (an incident, its version, status, event,
    audit entry) go as one statement of data-modifying CTEs instead — foreign
    keys are checked at its end, so parents and children may come together. The
    objects are then detached: their attributes stay readable, database-generated
    keys (serial ids) are not read back. Only for objects nothing touches again in
    this transaction (attached to another object, they would be inserted twice).
    Rows that need the flush (a computed default, a key set only through a
    relationship) are flushed by the ORM instead.
    """
    if session.get_bind().dialect.name != "postgresql":
        session.flush()
        return
    pending = list(session.new)
    if not pending:
        return
    order = {table: index for index, table in enumerate(Base.metadata.sorted_tables)}
    pending.sort(key=lambda obj: order[obj.__table__])
    inserts = []
    for obj in pending:
        values = _row_values(obj)
        if values is None:
            # A value only the flush can give (a default to compute, a key set through
            # a relationship): let the ORM write these rows.
            session.flush()
            return
        inserts.append(insert(obj.__table__).values(values))
    *first, last = inserts
    statement = last
    for index, cte_insert in enumerate(first):
        statement = statement.add_cte(cte_insert.cte(f"w{index}"))
    # Out of the session first: executing would otherwise flush them as well.
    for obj in pending:
        session.expunge(obj)
    session.execute(statement)
