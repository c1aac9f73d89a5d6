from shared.migrations import run_migrations
from svc_settlement.models import metadata

run_migrations(schema="settlement", metadata=metadata)
