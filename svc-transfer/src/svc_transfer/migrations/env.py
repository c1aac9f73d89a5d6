from shared.migrations import run_migrations
from svc_transfer.models import metadata

run_migrations(schema="transfer", metadata=metadata)
