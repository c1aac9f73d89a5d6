"""Loading and saving settlement rows (plain SQL through SQLAlchemy Core), one module per feature.

A use case works on one `Repository`: the features' rows over the unit of work's session (the clearing of a
month reads facilities, budgets, declarations and entries together)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from svc_settlement.repository.budgets import BudgetRows
from svc_settlement.repository.clearings import ClearingRows
from svc_settlement.repository.declarations import DeclarationRows
from svc_settlement.repository.entries import EntryRows
from svc_settlement.repository.facilities import FacilityRows


class Repository(FacilityRows, BudgetRows, DeclarationRows, EntryRows, ClearingRows):
    def __init__(self, session: AsyncSession):
        self.session = session
