"""Database engine, sessions and the unit of work.

Every service connects as its own role with `search_path` set to its own schema, so the tables
written once here (outbox, inbox, idempotency keys) live in each service's schema unqualified.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import orjson
from sqlalchemy import MetaData, Table, event, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util import queue as sqla_queue

from shared.clock import Clock
from shared.errors import Problem
from shared.events.envelope import Envelope

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(
    url: str, pool_size: int = 10, schema: str | None = None, *, pgbouncer: bool = False
) -> AsyncEngine:
    """`pgbouncer`: the URL is a PgBouncer in transaction mode, where consecutive transactions may run
    on different server connections shared with other clients. Nothing is then kept on a server
    connection: no statement caches (asyncpg's, SQLAlchemy's), a fresh name for each prepared
    statement (asyncpg's numbered names collide between clients), and no search_path in the startup
    packet (PgBouncer refuses it; the role's own `search_path`, set at bootstrap, applies)."""
    connect_args: dict[str, Any] = {}
    if pgbouncer:
        connect_args |= {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _unique_statement_name,
        }
    elif schema:
        connect_args["server_settings"] = {"search_path": schema}
    # No pre-ping: it costs a round trip per checkout; a dead connection fails its statement,
    # is discarded by the pool, and the request or message is retried by its caller.
    # No overflow: a burst waits for a pooled connection instead of opening (and soon closing) new
    # ones, which costs far more than the wait (connection set-up dominated consumer profiles).
    # LIFO: the most recently used connection is handed out again, so under light load the others
    # stay idle and `release_idle_connections` can close them.
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_recycle=1800,
        pool_use_lifo=True,
        connect_args=connect_args,
        # JSON columns (every case document) written and read with orjson: several times faster
        # than the json module, the same JSON.
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
    )
    event.listen(engine.sync_engine.pool, "checkin", _note_idle_since)
    return engine


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def _note_idle_since(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


_IDLE_SINCE = "yb_idle_since"


async def release_idle_connections(engine: AsyncEngine, keep: int, idle_s: float) -> int:
    """Close the pooled connections idle for `idle_s` or more, keeping the `keep` most recently used.

    SQLAlchemy's pool keeps every connection it ever opened until the process ends; at rest a
    platform would then hold each process's busiest-moment count. Returns how many were closed.
    """
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool):
        return 0
    return await greenlet_spawn(_release_idle, pool, keep, idle_s, time.monotonic())


def _release_idle(pool: QueuePool, keep: int, idle_s: float, now: float) -> int:
    # The queue and the overflow count are the pool's own bookkeeping, used as QueuePool.dispose
    # uses them. Taking the idle ones out and putting the kept ones back does not yield to the event
    # loop, so no checkout sees the queue half-drained; closing does (asyncpg says goodbye), by then
    # the stale ones are out of the pool and already uncounted.
    idle: list[Any] = []
    while True:
        try:
            idle.append(pool._pool.get(False))  # LIFO: most recently returned first
        except sqla_queue.Empty:
            break
    stale = [r for i, r in enumerate(idle) if i >= keep and now - r.info.get(_IDLE_SINCE, now) >= idle_s]
    for record in reversed([r for r in idle if r not in stale]):
        pool._pool.put(record, False)  # back in their order, the most recent on top
    for _ in stale:
        pool._dec_overflow()
    for record in stale:
        record.close()
    return len(stale)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


T = TypeVar("T")


class UnitOfWork:
    """One transaction: the state changes of a use case and the events they raise commit together.

    Events added with `emit` are written to the outbox table inside the same transaction and a
    NOTIFY wakes the relay when the transaction commits; nothing here talks to the broker.

    The ORM session is made when first asked for. A unit that sends only statements of its own
    (`fetch`, `execute`) checks out a pooled connection and runs its transaction on it with no session
    at all: the session's transaction cost about 200 µs of CPU more than the statements' own. When such
    a unit asks for the session after all, the session is bound to that same connection and
    transaction (`_session_on_pooled`).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        producer: str,
        gate: asyncio.Semaphore | None = None,
        gate_wait_s: float | None = None,
    ):
        self._sessions = sessions
        self.clock = clock
        self.producer = producer
        # Taken for the transaction's whole life: HTTP requests share a gate smaller than the pool,
        # so the relay, the access audit and the consumer always find a connection.
        self._gate = gate
        self._gate_wait_s = gate_wait_s
        self._session: AsyncSession | None = None
        self._read_only = False
        self._pending: list[Envelope] = []
        self._connection: Any = None  # the session's pooled connection, as `_driver` found it
        self._connection_of: Any = None  # the session's transaction it was found for
        self._pooled: Any = None  # the pooled connection this unit checked out itself, with no session

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._sessions() if self._pooled is None else self._session_on_pooled()
        return self._session

    @property
    def _engine(self) -> AsyncEngine:
        engine: AsyncEngine = self._sessions.kw["bind"]
        return engine

    def _session_on_pooled(self) -> AsyncSession:
        """A session on this unit's own connection: its statements join the transaction already begun
        there (SQLAlchemy begins nothing on the server itself; the asyncpg adapter does, once), and its
        commit or rollback ends that transaction."""
        connection = Connection(self._engine.sync_engine, connection=self._pooled)
        return self._sessions(bind=AsyncConnection(self._engine, connection))

    async def __aenter__(self) -> Self:
        if self._gate is not None:
            await self._enter_gate(self._gate)
        self._session = None
        self._read_only = False
        self._pending = []
        return self

    async def _enter_gate(self, gate: asyncio.Semaphore) -> None:
        # A request that waits longer than the pool would have let it is told to come back, rather
        # than queueing without end behind a burst.
        if not gate.locked():  # a free place is taken at once, without a timer
            await gate.acquire()
            return
        try:
            await asyncio.wait_for(gate.acquire(), timeout=self._gate_wait_s)
        except TimeoutError:
            raise Problem(503, "busy", "服务繁忙，请稍后重试", headers={"Retry-After": "1"}) from None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self._session, None
        pooled, self._pooled = self._pooled, None
        self._connection = self._connection_of = None
        try:
            if session is not None:
                try:
                    await session.rollback()
                finally:
                    await session.close()
        finally:
            try:
                if pooled is not None:
                    await _give_back(pooled)
            finally:
                if self._gate is not None:
                    self._gate.release()

    def emit(self, envelope: Envelope) -> None:
        self._pending.append(envelope)

    async def commit(self) -> None:
        from shared.events.outbox import write_to_outbox

        if self._pending:
            await write_to_outbox(self, self._pending)
            self._pending = []
        if self._session is not None:
            await self._session.commit()
        if self._pooled is not None:
            await greenlet_spawn(self._pooled.dbapi_connection.commit)  # nothing left to do after a session's

    async def rollback(self) -> None:
        self._pending = []
        if self._session is not None:
            await self._session.rollback()
        if self._pooled is not None:
            await greenlet_spawn(self._pooled.dbapi_connection.rollback)

    async def run(self, use_case: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
        """One use case as one transaction: it gets this unit of work first, and what it did is committed."""
        async with self:
            result = await use_case(self, *args, **kwargs)
            await self.commit()
        return result

    async def read(self, query: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
        """A use case that changes nothing, in a transaction that is rolled back."""
        async with self:
            self._read_only = True
            return await query(self, *args, **kwargs)

    async def fetch(self, statement: str, *args: Any) -> list[Any]:
        """Rows of one statement (``$1``-style parameters) sent straight to asyncpg: for the hottest
        statements, where SQLAlchemy's statement and result handling cost more than the query. In a
        read (`read`) that has begun no transaction it runs on a pooled connection borrowed for this
        statement alone (one statement sees one snapshot by itself), so the read sets up no session at
        all; otherwise inside the unit of work's transaction, begun first if nothing has begun it yet.
        Rows are asyncpg records (by name or position; JSONB decoded)."""
        session = self._session
        if self._read_only and self._pooled is None and (session is None or not session.in_transaction()):
            return await _fetch_on_borrowed(self._engine, statement, args)
        return list(await (await self._driver()).fetch(statement, *args))

    async def execute(self, statement: Prepared, values: Mapping[str, Any] | None = None) -> list[Any]:
        """A statement built once (`Prepared`), run as `fetch` runs SQL text: SQLAlchemy compiles it
        the first time only, and `values` are bound as SQLAlchemy would bind them."""
        return await self.fetch(statement.sql(self._engine.dialect), *statement.arguments(values or {}))

    async def copy_records_to_table(
        self, table: str, *, records: list[tuple[Any, ...]], columns: list[str]
    ) -> None:
        """Rows written by COPY in this unit of work's transaction (many rows at once: a month's bills)."""
        await (await self._driver()).copy_records_to_table(table, records=records, columns=columns)

    async def _driver(self) -> Any:
        """The asyncpg connection of this unit of work's transaction, begun if it has not been: this
        unit's own pooled connection when it has no session, else the session's (looked up once per
        transaction: the session's transaction object tells when it is another one)."""
        if self._session is None and self._pooled is None:
            self._pooled = await self._engine.raw_connection()
        connection = self._pooled if self._pooled is not None else await self._session_connection()
        adapted = connection.dbapi_connection
        # SQLAlchemy's asyncpg adapter sends BEGIN with its first statement: a statement sent past it
        # must begin the transaction itself, or a write would commit on its own. The adapter has no
        # public way to ask; test_read_units holds these two names to it.
        if adapted._transaction is None:
            await adapted._start_transaction()
        return connection.driver_connection

    async def _session_connection(self) -> Any:
        session = self.session
        transaction = session.sync_session.get_transaction()
        if transaction is None or transaction is not self._connection_of:
            self._connection = await (await session.connection()).get_raw_connection()
            self._connection_of = session.sync_session.get_transaction()
        return self._connection


class OnUnitOfWork:
    """A repository over a unit of work: its prepared statements go through the unit of work itself
    (`execute`), the others through its session, made only when one of them runs."""

    def __init__(self, uow: UnitOfWork):
        self.uow = uow

    @property
    def session(self) -> AsyncSession:
        return self.uow.session


class Prepared:
    """A Core statement built once, compiled for asyncpg the first time it runs and then sent to it
    directly (`UnitOfWork.execute`): SQLAlchemy's work per execution (cache key, execution context,
    result processing) costs more than the query for the statements every request runs. Its values
    go through the same bind processors SQLAlchemy would apply (a JSONB value is serialised); rows
    come back as asyncpg records. Not for statements whose SQL depends on the values (expanding IN)."""

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._sql: str | None = None
        self._binds: list[tuple[str, Callable[[Any], Any] | None, bool, Any]] = []

    def sql(self, dialect: Dialect) -> str:
        if self._sql is None:
            compiled = self.statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler)
            binds = compiled.binds
            assert not any(b.expanding for b in binds.values()), "expanding parameters change the SQL"
            self._binds = [
                (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect), binds[name].required,
                 compiled.params.get(name))
                for name in compiled.positiontup or ()
            ]  # fmt: skip
            self._sql = compiled.string
        return self._sql

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        bound = []
        for name, process, required, default in self._binds:
            if required and name not in values:
                raise KeyError(f"a value is required for {name!r}")
            value = values.get(name, default)
            bound.append(value if process is None else process(value))
        return bound


async def _give_back(pooled: Any) -> None:
    """A unit's own connection back to the pool, its transaction rolled back if still open (nothing is
    sent after a commit); one cut off mid-statement is discarded instead."""
    try:
        await greenlet_spawn(pooled.dbapi_connection.rollback)
    except BaseException:
        pooled.invalidate()
        raise
    finally:
        await greenlet_spawn(pooled.close)


async def _fetch_on_borrowed(engine: AsyncEngine, statement: str, args: tuple[Any, ...]) -> list[Any]:
    pooled = await engine.raw_connection()
    try:
        driver = pooled.driver_connection
        assert driver is not None
        return list(await driver.fetch(statement, *args))
    except BaseException:
        pooled.invalidate()  # cut off mid-statement (a cancelled request): not fit to be handed out again
        raise
    finally:
        await greenlet_spawn(pooled.close)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def upsert_newer(
    session: AsyncSession, table: Table, values: dict[str, Any], key: str = "code"
) -> None:
    """A projection's row inserted, or replaced by ``values`` when their ``version`` is higher: events
    about one record may arrive out of order, and an older one must not undo a newer one."""
    statement = insert(table).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[key],
            set_={k: statement.excluded[k] for k in values if k != key},
            where=table.c.version < statement.excluded.version,
        )
    )
