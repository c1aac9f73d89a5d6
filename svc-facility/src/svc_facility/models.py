"""Tables of the facility schema (its business tables arrive with its issue)."""

from shared.db import new_metadata

metadata = new_metadata()
