"""Engine and session factory, at process scope; one transaction per use case.

Use cases receive a ``Session`` already inside a transaction and never commit;
the entry point opens it with ``Database.transaction()``.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import Engine, Executable, Table, bindparam, create_engine, event, insert, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from intake_service.platform.orm import Base

if TYPE_CHECKING:
    from intake_service.platform.config import Config


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


# A connection back in the pool for longer than this is pinged before use. Not
# every time (SQLAlchemy's pool_pre_ping): on a busy process, a ping is a round
# trip per request; a connection in constant use shows a dead server by failing
# its statement, which invalidates the whole pool (the request gets its 503 and
# the next ones fresh connections).
PING_AFTER_IDLE_SECONDS = 2.0


def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dialect: Dialect, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    checked_in_at = record.info.get("checked_in_at")
    if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
        return  # a new connection, or one in use a moment ago
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as error:
        # The pool drops this connection and checks out another (a new one if need be).
        raise DisconnectionError(f"idle connection failed its ping: {error}") from error


class Database:
    """The engine and its session factory for one database URL.

    ``pooler="transaction"``: ``url`` is a pooler in transaction mode (PgBouncer), whose
    server connections pass from client to client at each transaction's end. psycopg
    then prepares no statement (by default it prepares a query run a sixth time on a
    connection, and the next transaction may find another server, where that statement
    does not exist, or exists already). ``direct_url``, the server itself, is where
    LISTEN goes (``listen_url``): through the pooler it would never be woken.
    """

    def __init__(
        self,
        url: str,
        *,
        direct_url: str | None = None,
        pooler: str = "none",
        **engine_options: Any,
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.pooler = pooler
        self.direct_url = direct_url
        if pooler == "transaction" and not self.is_sqlite:
            connect_args = dict(engine_options.get("connect_args", {}))
            connect_args["prepare_threshold"] = None
            engine_options["connect_args"] = connect_args
        # A failing statement's parameters are a sheet's names, phones and comments:
        # never in an exception's text, hence never in a log.
        engine_options.setdefault("hide_parameters", True)
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
            engine_options.setdefault("pool_size", 10)
            engine_options.setdefault("max_overflow", 20)
            self.engine = create_engine(url, **engine_options)
            event.listen(self.engine, "checkin", _on_checkin)
            event.listen(
                self.engine, "checkout", functools.partial(_ping_if_idle, self.engine.dialect)
            )
            self.read_engine = self.engine
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    @classmethod
    def from_config(cls, config: Config, **engine_options: Any) -> Database:
        return cls(
            config.database_url,
            direct_url=config.database_direct_url,
            pooler=config.database_pooler,
            **engine_options,
        )

    @property
    def listen_url(self) -> str | None:
        """Where LISTEN may go: the server itself; None on SQLite, or behind a pooler
        when no direct URL is given (then listeners poll)."""
        if self.is_sqlite:
            return None
        if self.direct_url:
            return self.direct_url
        return self.url if self.pooler == "none" else None

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


class PendingStatement(NamedTuple):
    """A DML statement to run with a use case's new rows (``write_pending``).

    ``statement`` is built once (a module constant) with bound parameters whose
    names no other pending statement uses; ``params`` gives their values.
    """

    statement: Executable
    params: Mapping[str, Any]


# One composed statement per shape of write (which tables, which columns, which
# extra statements): built and compiled once, then only its parameters change,
# so SQLAlchemy finds it in its compiled cache without walking the values and
# psycopg prepares it on the server after a few executions (not behind a transaction
# pooler: DATABASE_POOLER).
_composed: dict[tuple[Any, ...], Executable] = {}


def write_pending(session: Session, *also: PendingStatement) -> None:
    """Write the session's new objects now: on PostgreSQL in one statement, else by a flush.

    The ORM's flush sends one INSERT per table, each waiting for the database; on
    PostgreSQL the rows of a use case (an incident, its version, status, event,
    audit entry) go as one statement of data-modifying CTEs instead — foreign
    keys are checked at its end, so parents and children may come together —
    along with the ``also`` statements (an ``INSERT … SELECT`` that needs no
    round trip of its own). The objects are then detached: their attributes stay
    readable, database-generated keys (serial ids) are not read back. Only for
    objects nothing touches again in this transaction (attached to another
    object, they would be inserted twice). Rows that need the flush (a computed
    default, a key set only through a relationship) are flushed by the ORM
    instead, and the ``also`` statements then run one by one.
    """
    pending = list(session.new)
    rows = _pending_rows(pending) if session.get_bind().dialect.name == "postgresql" else None
    if rows is None:
        session.flush()
        with session.no_autoflush:
            for extra in also:
                session.execute(extra.statement, dict(extra.params))
        return
    if not rows and not also:
        return
    shape = (
        tuple((table, tuple(values)) for table, values in rows),
        tuple(id(extra.statement) for extra in also),
    )
    composed = _composed.get(shape)
    if composed is None:
        composed = _compose(rows, [extra.statement for extra in also])
        _composed[shape] = composed
    params: dict[str, Any] = {}
    for index, (_table, values) in enumerate(rows):
        params.update((f"r{index}_{column}", value) for column, value in values.items())
    for extra in also:
        params.update(extra.params)
    # Out of the session first: executing would otherwise flush them as well.
    for obj in pending:
        session.expunge(obj)
    session.execute(composed, params)


def _pending_rows(pending: list[Any]) -> list[tuple[Table, dict[str, Any]]] | None:
    """The new objects' rows, parents first, or None if only a flush can write them."""
    order = _table_order()
    pending.sort(key=lambda obj: order[obj.__table__])
    rows = []
    for obj in pending:
        values = _row_values(obj)
        if values is None:
            # A value only the flush can give (a default to compute, a key set through
            # a relationship): let the ORM write these rows.
            return None
        rows.append((obj.__table__, values))
    return rows


@functools.cache
def _table_order() -> dict[Table, int]:
    return {table: index for index, table in enumerate(Base.metadata.sorted_tables)}


def _compose(rows: list[tuple[Table, dict[str, Any]]], also: list[Executable]) -> Executable:
    statements: list[Any] = [
        insert(table).values(
            {
                column: bindparam(f"r{index}_{column}", type_=table.c[column].type)
                for column in values
            }
        )
        for index, (table, values) in enumerate(rows)
    ]
    statements += also
    *first, last = statements
    for index, statement in enumerate(first):
        last = last.add_cte(statement.cte(f"w{index}"))
    return cast(Executable, last)
