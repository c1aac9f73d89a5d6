"""HTTP conventions: problem+json errors, request/correlation ids, idempotent commands."""
