"""Loading and saving settlement rows (plain SQL through SQLAlchemy Core), one module per feature.

A use case works on one `Repository`: the features' rows over the unit of work (the clearing of a month reads
facilities, budgets, declarations and entries together). The statements of a monthly declaration are built
once and sent straight to asyncpg (`shared.db.Prepared`); the others go through the unit of work's session."""

from __future__ import annotations

from svc_settlement.repository.budgets import BudgetRows
from svc_settlement.repository.clearings import ClearingRows
from svc_settlement.repository.declarations import DeclarationRows
from svc_settlement.repository.entries import EntryRows
from svc_settlement.repository.facilities import FacilityRows


class Repository(FacilityRows, BudgetRows, DeclarationRows, EntryRows, ClearingRows):
    """Every feature's rows on one unit of work (`shared.db.OnUnitOfWork`)."""
