from shared.migrations import run_migrations
from svc_claims.models import metadata

run_migrations(schema="claims", metadata=metadata)
