"""Periodic work of svc-transfer: deadline scan and delivery to peers (every replica runs both; rows
are claimed with SKIP LOCKED, so each alert is raised and each message sent by one replica)."""

from __future__ import annotations

from shared.scans import scan_in_pages
from shared.service import PeriodicJob, ServiceRuntime, every
from svc_transfer.interop.exchange import Interop
from svc_transfer.usecases.deadlines import announce_overdue_steps


async def scan_overdue_steps(runtime: ServiceRuntime) -> None:
    await scan_in_pages(runtime, announce_overdue_steps)


def jobs_for(interop: Interop) -> list[PeriodicJob]:
    async def deliver_messages(runtime: ServiceRuntime) -> None:
        while await interop.deliver_due(runtime):
            pass

    return [scan_overdue_steps, every(interop.settings.interop_delivery_interval_s, deliver_messages)]
