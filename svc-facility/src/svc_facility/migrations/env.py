from shared.migrations import run_migrations
from svc_facility.models import metadata

run_migrations(schema="facility", metadata=metadata)
