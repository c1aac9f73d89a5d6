"""Each service's migrations build exactly what its models describe (plus the infrastructure tables).

Migrations are frozen (they never read the models), so this is what catches a model changed
without a migration, or a migration that drifted from the model.
"""

from __future__ import annotations

import asyncio
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine

from shared.migrations import service_database_url
from shared.tables import infrastructure
from yb_deploy.platform import SERVICES

pytestmark = pytest.mark.integration


def target_metadata(service: str) -> MetaData:
    combined = MetaData()
    for metadata in (importlib.import_module(f"svc_{service}.models").metadata, infrastructure):
        for table in metadata.tables.values():
            table.to_metadata(combined)
    return combined


def differences(url: str, schema: str, metadata: MetaData) -> list:
    async def compare() -> list:
        engine = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(
                            sync,
                            opts={
                                "compare_type": True,
                                "include_name": lambda name, kind, parent: name != "alembic_version",
                            },
                        ),
                        metadata,
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(compare())


@pytest.mark.parametrize("service", SERVICES)
def test_the_migrated_schema_matches_the_models(migrated_database: str, service: str) -> None:
    found = differences(service_database_url(migrated_database, service), service, target_metadata(service))
    assert found == [], f"{service}: models and migrations differ: {found}"
