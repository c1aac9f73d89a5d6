"""A read (`UnitOfWork.read`) sends its plain-SQL statements (`UnitOfWork.fetch`) on a pooled connection
borrowed for the statement, without making an ORM session; once the read has begun a transaction, on
that transaction's connection; a statement cut off mid-way leaves no broken connection in the pool. A
statement built once (`Prepared`) and sent straight to asyncpg in a writing unit of work is part of its
transaction, even sent before anything else."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, distinct, func, select, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import QueuePool

from shared.clock import SystemClock
from shared.db import Prepared, UnitOfWork, make_engine
from shared.testing.runs import RunServers

pytestmark = pytest.mark.integration


class CountedSessions(async_sessionmaker[AsyncSession]):
    made = 0

    def __call__(self, **local_kw: Any) -> AsyncSession:
        self.made += 1
        return super().__call__(**local_kw)


class Runtime:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self.sessions = CountedSessions(engine, expire_on_commit=False, autoflush=False)

    def request_uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, SystemClock(), "reads", gate=asyncio.Semaphore(3))


@pytest.fixture
async def runtime(test_servers: RunServers) -> AsyncIterator[Runtime]:
    engine = make_engine(test_servers.admin_url, pool_size=4)
    yield Runtime(engine)
    await engine.dispose()


def checked_out(runtime: Runtime) -> int:
    pool = runtime.engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


async def test_a_read_of_plain_sql_alone_holds_no_connection_between_its_statements_and_begins_nothing(
    runtime: Runtime,
) -> None:
    async def query(uow: UnitOfWork) -> dict[str, Any]:
        first = await uow.fetch("SELECT $1::int + 1 AS n, txid_current_if_assigned() AS tx", 41)
        second = await uow.fetch("SELECT $1::int * 2 AS n", 21)
        return {"n": [first[0]["n"], second[0]["n"]], "tx": first[0]["tx"], "held": checked_out(runtime)}

    seen = await runtime.request_uow().read(query)

    assert seen == {"n": [42, 42], "tx": None, "held": 0}
    assert checked_out(runtime) == 0
    assert runtime.sessions.made == 0  # no ORM session made, none to roll back and close


async def test_once_a_read_has_begun_a_transaction_its_plain_sql_runs_on_that_transaction(
    runtime: Runtime,
) -> None:
    async def query(uow: UnitOfWork) -> tuple[int, int]:
        session_pid = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        fetched = await uow.fetch("SELECT pg_backend_pid() AS pid")
        return session_pid, fetched[0]["pid"]

    session_pid, fetched_pid = await runtime.request_uow().read(query)

    assert session_pid == fetched_pid
    assert checked_out(runtime) == 0


async def test_a_write_units_plain_sql_runs_on_the_connection_its_writes_use(runtime: Runtime) -> None:
    async with runtime.request_uow() as uow:
        fetched = await uow.fetch("SELECT pg_backend_pid() AS pid")
        written = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert fetched[0]["pid"] == written
        assert checked_out(runtime) == 1
    assert checked_out(runtime) == 0


async def cut_off(unit: Coroutine[Any, Any, Any]) -> None:
    """Cancel a unit of work while its statement runs, as a request cut off by its client is."""
    task = asyncio.create_task(unit)
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_read_cut_off_mid_statement_leaves_no_broken_connection_in_the_pool(
    runtime: Runtime,
) -> None:
    async def slow(uow: UnitOfWork) -> list[Any]:
        return await uow.fetch("SELECT pg_sleep(30)")

    await cut_off(runtime.request_uow().read(slow))

    assert checked_out(runtime) == 0
    for _ in range(6):  # more reads than the pool has connections: every one it hands out works
        rows = await runtime.request_uow().read(lambda uow: uow.fetch("SELECT 7 AS n"))
        assert rows[0]["n"] == 7


@pytest.fixture
async def notes(runtime: Runtime) -> AsyncIterator[Table]:
    table = Table(f"notes_{uuid.uuid4().hex[:8]}", MetaData(), Column("id", Integer, primary_key=True),
                  Column("body", JSONB, nullable=False))  # fmt: skip
    async with runtime.engine.begin() as connection:
        await connection.run_sync(table.create)
    yield table
    async with runtime.engine.begin() as connection:
        await connection.run_sync(table.drop)


def adding(table: Table) -> Prepared:
    return Prepared(insert(table).values(id=bindparam("id"), body=bindparam("body")))


async def stored(runtime: Runtime, table: Table) -> list[Any]:
    async with runtime.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(select(table.c.id, table.c.body))]


async def test_a_prepared_write_sent_first_is_part_of_the_transaction_and_goes_with_its_rollback(
    runtime: Runtime, notes: Table
) -> None:
    add = adding(notes)
    async with runtime.request_uow() as uow:
        await uow.execute(add, {"id": 1, "body": {"a": [1, "二"]}})  # before anything SQLAlchemy sent
        in_transaction = await uow.fetch("SELECT txid_current_if_assigned() AS tx")
        assert in_transaction[0]["tx"] is not None
    assert await stored(runtime, notes) == []  # left without commit: rolled back

    async with runtime.request_uow() as uow:
        await uow.execute(add, {"id": 2, "body": {"a": [1, "二"]}})
        await uow.commit()
    assert await stored(runtime, notes) == [(2, {"a": [1, "二"]})]  # the JSON bound as SQLAlchemy binds it


async def test_a_prepared_statement_asks_for_every_value_it_has_no_default_for(
    runtime: Runtime, notes: Table
) -> None:
    read = Prepared(select(notes.c.body).where(notes.c.id == bindparam("of_id")))
    async with runtime.request_uow() as uow:
        with pytest.raises(KeyError, match="of_id"):
            await uow.execute(read, {})
        assert await uow.execute(read, {"of_id": 3}) == []


async def test_after_a_commit_a_prepared_write_belongs_to_the_next_transaction(
    runtime: Runtime, notes: Table
) -> None:
    add = adding(notes)
    async with runtime.request_uow() as uow:
        await uow.execute(add, {"id": 1, "body": {}})
        await uow.commit()
        await uow.execute(add, {"id": 2, "body": {}})  # a new transaction, never committed
    assert await stored(runtime, notes) == [(1, {})]


async def test_a_unit_sending_only_its_own_statements_makes_no_session_and_gives_its_connection_back(
    runtime: Runtime, notes: Table
) -> None:
    add = adding(notes)
    async with runtime.request_uow() as uow:
        await uow.execute(add, {"id": 1, "body": {}})
        assert checked_out(runtime) == 1
        await uow.commit()
    assert runtime.sessions.made == 0
    assert checked_out(runtime) == 0
    assert await stored(runtime, notes) == [(1, {})]


async def written_together(runtime: Runtime, table: Table) -> int:
    async with runtime.engine.connect() as connection:
        return (
            await connection.execute(select(func.count(distinct(text("xmin::text")))).select_from(table))
        ).scalar_one()


async def test_a_session_asked_for_after_a_prepared_write_joins_that_transaction(
    runtime: Runtime, notes: Table
) -> None:
    add = adding(notes)

    async def both(uow: UnitOfWork, first: int) -> tuple[int, int]:
        await uow.execute(add, {"id": first, "body": {}})
        await uow.session.execute(insert(notes).values(id=first + 1, body={"by": "session"}))
        own = await uow.fetch("SELECT pg_backend_pid() AS pid")
        session = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        return own[0]["pid"], session

    async with runtime.request_uow() as uow:
        own_pid, session_pid = await both(uow, 1)
        assert own_pid == session_pid
    assert await stored(runtime, notes) == []  # both rolled back together
    assert checked_out(runtime) == 0

    await runtime.request_uow().run(both, 3)
    assert sorted(await stored(runtime, notes)) == [(3, {}), (4, {"by": "session"})]
    assert await written_together(runtime, notes) == 1  # one transaction wrote both
    assert checked_out(runtime) == 0


async def test_a_write_unit_that_fails_or_is_cut_off_rolls_back_and_leaves_no_broken_connection(
    runtime: Runtime, notes: Table
) -> None:
    add = adding(notes)
    with pytest.raises(RuntimeError):
        async with runtime.request_uow() as uow:
            await uow.execute(add, {"id": 1, "body": {}})
            raise RuntimeError("the use case refuses")

    async def slow(uow: UnitOfWork) -> None:
        await uow.execute(add, {"id": 2, "body": {}})
        await uow.fetch("SELECT pg_sleep(30)")

    await cut_off(runtime.request_uow().run(slow))

    assert checked_out(runtime) == 0
    assert await stored(runtime, notes) == []
    for n in range(6):  # more units than the pool has connections: every connection it hands out works
        await runtime.request_uow().run(lambda uow, n=n: uow.execute(add, {"id": 10 + n, "body": {}}))
    assert len(await stored(runtime, notes)) == 6
