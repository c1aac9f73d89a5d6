from shared.migrations import run_migrations
from svc_registration.models import metadata

run_migrations(schema="registration", metadata=metadata)
