"""Periodic work of svc-facility (run by every replica; rows are claimed with SKIP LOCKED)."""

from shared.scans import scan_in_pages
from shared.service import ServiceRuntime
from svc_facility.usecases.applications import announce_overdue_replies


async def scan_overdue_replies(runtime: ServiceRuntime) -> None:
    await scan_in_pages(runtime, announce_overdue_replies)


JOBS = [scan_overdue_replies]
