"""The pieces of the ops page that need no server: throughput windows, recent errors kept without
their arguments, payload masking, and the age of an overdue deadline."""

from __future__ import annotations

import logging
from datetime import date, datetime

from shared.clock import SHANGHAI, FixedClock
from shared.identity import mask_personal_fields
from shared.logs import RecentErrors
from shared.metrics import Throughput
from shared.ops import overdue_seconds, safe_error

ID_NUMBER = "120101199003071235"


def test_throughput_counts_the_last_minute_only() -> None:
    flow = Throughput()
    flow.add("claims", "consumed", 3, now=1000.0)
    flow.add("claims", "consumed", 2, now=1000.5)
    flow.add("claims", "consumed", 1, now=1030.0)
    flow.add("claims", "published", 7, now=1030.0)
    assert flow.last_minute("claims", "consumed", now=1030.0) == 6
    assert flow.last_minute("claims", "consumed", now=1059.9) == 6
    assert flow.last_minute("claims", "consumed", now=1060.0) == 1  # the second 1000 has left the window
    assert flow.last_minute("claims", "consumed", now=1090.0) == 0
    assert flow.last_minute("claims", "published", now=1031.0) == 7
    assert flow.last_minute("facility", "consumed", now=1031.0) == 0


def test_recent_errors_keep_templates_not_arguments() -> None:
    recent = RecentErrors(capacity=2)
    logger = logging.getLogger("test.ops")
    logger.addHandler(recent)
    try:
        logger.info("not kept")
        logger.warning("handler failed for %s", f"张三 {ID_NUMBER}")
        try:
            raise ValueError(f"bad input 张三 {ID_NUMBER}")
        except ValueError:
            logger.exception("could not apply")
        logger.error(f"careless message with {ID_NUMBER}")
    finally:
        logger.removeHandler(recent)
    latest = recent.latest()
    assert [e["message"] for e in latest] == ["careless message with 1201**********1235", "could not apply"]
    assert latest[1]["error_type"] == "ValueError" and latest[1]["level"] == "ERROR"
    assert "张三" not in str(latest) and ID_NUMBER not in str(latest)


def test_personal_fields_are_masked_at_any_depth() -> None:
    payload = {
        "event_type": "registration.approved",
        "payload": {
            "person_id": "4f8d…",
            "person": {"id_number": ID_NUMBER, "name": "张三", "phone": "13800000000"},
            "applicant_name": "李四",
            "diagnosis_code": "J45",
            "note": f"证件号 {ID_NUMBER}",
            "history": [{"name": "王五"}],
            "optional_name": None,
            "office_code": "120101",
        },
    }
    masked = mask_personal_fields(payload)
    shown = masked["payload"]  # type: ignore[index]
    assert shown["person"] == {"id_number": "***", "name": "***", "phone": "***"}
    assert (
        shown["applicant_name"] == "***"
        and shown["diagnosis_code"] == "***"
        and shown["history"] == [{"name": "***"}]
    )
    assert shown["note"] == "证件号 1201**********1235"
    assert (
        shown["optional_name"] is None and shown["office_code"] == "120101" and shown["person_id"] == "4f8d…"
    )
    assert masked["event_type"] == "registration.approved"  # type: ignore[index]
    assert payload["payload"]["person"]["name"] == "张三"  # the original is untouched


def test_a_dead_letters_error_loses_the_quoted_input() -> None:
    error = (
        "shared.events.consumer.PoisonMessage: payload does not match x: 1 validation error for M\n"
        f"name\n  Input should be a valid integer [type=int_parsing, input_value='张三 {ID_NUMBER}', input_type=str]"
    )
    cleaned = safe_error(error)
    assert "张三" not in cleaned and ID_NUMBER not in cleaned
    assert "input_value=***" in cleaned and cleaned.startswith("shared.events.consumer.PoisonMessage")


def test_overdue_age_counts_from_the_end_of_the_due_day() -> None:
    clock = FixedClock(datetime(2026, 5, 12, 6, 0, tzinfo=SHANGHAI))
    assert overdue_seconds(date(2026, 5, 11), clock) == 6 * 3600
    assert overdue_seconds(date(2026, 5, 12), clock) == 0  # still the due day: in time
