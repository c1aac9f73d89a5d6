"""What every feature's rows work on: the unit of work, and its session for the statements not prepared."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import UnitOfWork


class Rows:
    def __init__(self, uow: UnitOfWork):
        self.uow = uow

    @property
    def session(self) -> AsyncSession:
        return self.uow.session
