"""Remote care filings: long-term open-ended, a referral valid 90 days and an emergency 30 (day 0 = filing)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from shared.errors import Problem
from svc_registration.domain.remote_care import LongTermCategory, RemoteKind, TripReason, file_remote_care

TODAY = date(2026, 11, 22)


def filing(kind: RemoteKind, category=None, reason=None, commitment: bool = True):  # type: ignore[no-untyped-def]
    return file_remote_care(uuid.uuid4(), "120101", kind, "310101", category, reason, commitment, TODAY, "p", datetime(2026, 11, 22, tzinfo=UTC))


@pytest.mark.parametrize(("reason", "valid_to", "claims_class", "points"), [
    (TripReason.emergency, date(2026, 12, 22), "temporary_emergency", 0),
    (TripReason.referral, date(2027, 2, 20), "referred", 5),
])  # fmt: skip
def test_temporary_filings_hold_for_their_days(reason: TripReason, valid_to: date, claims_class: str, points: int) -> None:
    f = filing(RemoteKind.temporary, reason=reason)
    assert (f.valid_from, f.valid_to) == (TODAY, valid_to)
    assert f.details["remote_class"] == claims_class and f.details["self_pay_extra_points"] == points


def test_a_long_term_filing_is_open_ended() -> None:
    f = filing(RemoteKind.long_term, category=LongTermCategory.resettled_retiree)
    assert f.valid_to is None and f.details["remote_class"] == "resident_remote" and f.details["category"] == "resettled_retiree"


@pytest.mark.parametrize(("kind", "category", "reason", "commitment", "code"), [
    (RemoteKind.temporary, None, None, True, "validation_failed"),
    (RemoteKind.temporary, LongTermCategory.remote_worker, TripReason.emergency, True, "validation_failed"),
    (RemoteKind.long_term, None, None, True, "validation_failed"),
    (RemoteKind.long_term, LongTermCategory.remote_worker, None, False, "commitment_required"),
])  # fmt: skip
def test_incomplete_filings_are_refused(kind, category, reason, commitment, code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Problem) as refused:
        filing(kind, category, reason, commitment)
    assert refused.value.code == code and refused.value.status == 422
