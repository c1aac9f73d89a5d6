"""`make up` starts its own PostgreSQL when none answers, in a folder of its own, and stops only that."""

from __future__ import annotations

import asyncio

import pytest

from shared.testing.servers import PrivatePostgres, free_port, postgres_answers


@pytest.mark.integration
def test_a_private_postgres_starts_in_its_folder_answers_and_stops(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = PrivatePostgres(tmp_path / "postgres", free_port())
    assert not asyncio.run(postgres_answers(server.admin_url))
    server.start()
    try:
        assert asyncio.run(postgres_answers(server.admin_url))
        assert (tmp_path / "postgres" / "data" / "PG_VERSION").exists()
    finally:
        server.stop()
    assert not asyncio.run(postgres_answers(server.admin_url))
    server.start()  # a second start reuses the initialised folder
    try:
        assert asyncio.run(postgres_answers(server.admin_url))
    finally:
        server.stop()
