from yb_deploy.asyncapi import DOCUMENT, consumers_by_event, document, render


def test_the_committed_event_catalogue_is_up_to_date() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), (
        "run `uv run yb-asyncapi` and commit docs/events/asyncapi.yaml"
    )


def test_every_event_names_its_producer_and_consumers() -> None:
    channels = document()["channels"]
    assert channels["registration.approved"]["x-producer"] == "registration"
    assert channels["registration.approved"]["x-consumers"] == ["claims", "transfer"]
    assert consumers_by_event()["registration.approved"] == ["claims", "transfer"]
    assert consumers_by_event()["transfer.transferred_out"] == ["registration", "claims"]
    payload = document()["components"]["messages"]["registration.approved.v1"]["payload"]["properties"][
        "payload"
    ]
    assert {"person_id", "benefit_start", "benefit_end", "scheme"} <= set(payload["properties"])
