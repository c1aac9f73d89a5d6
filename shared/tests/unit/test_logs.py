import json
import logging

from shared import context
from shared.logs import configure_logging


def test_log_lines_are_json_with_ids_and_masked_id_numbers(capsys) -> None:  # type: ignore[no-untyped-def]
    configure_logging("claims", "INFO", json_lines=True)
    request = context.request_id.set("req-1")
    correlation = context.correlation_id.set("corr-1")
    event = context.event_id.set("evt-1")
    try:
        logging.getLogger("test").info("looked up 120101199003071235 for a claim")
    finally:
        context.request_id.reset(request)
        context.correlation_id.reset(correlation)
        context.event_id.reset(event)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["service"] == "claims"
    assert (line["request_id"], line["correlation_id"], line["event_id"]) == ("req-1", "corr-1", "evt-1")
    assert "120101199003071235" not in line["message"]
    assert "1201**********1235" in line["message"]
