"""The exchange never stalls silently: a refused or undeliverable message flags its case until staff
re-send it, retries stop, a hanging peer delays only itself, a broken peers file is reported."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date

import pytest

from shared.testing.asgi import dead_url, serve
from shared.testing.e2e import new_resident_id as new_person
from svc_transfer.interop.peers import write_peers
from svc_transfer.interop.protocol import MessageType, Signer

from .conftest import PEER

TRANSFERS = "/api/v1/transfer/transfers"


def wait_for(check, timeout_s: float = 15, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return result


def peers(office, *extra: dict) -> None:  # type: ignore[no-untyped-def]
    entry = {"office_code": "130200", "name": "唐山市医疗保障经办机构", "url": office.peer_url,
             "profile": "seeds_5_10_5", "keys": [office.peer.signer.public_jwk()]}  # fmt: skip
    write_peers(office.peers_file, [entry, *extra])


def other_peer(code: str, url: str, tmp_path) -> dict:  # type: ignore[no-untyped-def]
    signer = Signer.load_or_create(code, tmp_path / f"{code}.pem")
    return {"office_code": code, "name": f"{code} 经办机构", "url": url, "keys": [signer.public_jwk()]}


def letter_sent_case(office, issuing_office: str = "130200") -> dict:  # type: ignore[no-untyped-def]
    id_number = new_person("130202")
    office.covered(id_number, "120101", date(2026, 1, 1), date(2026, 12, 31))
    body = {
        "person": {"id_number": id_number, "name": "迁移人"},
        "certificate": {"number": f"13{uuid.uuid4().int % 10**14:014d}", "issuing_office": issuing_office,
                        "coverage_ended_on": "2025-12-31", "contribution_months": 12, "account_balance": "10.00"},
    }  # fmt: skip
    case = office.client.post(TRANSFERS, json=body, headers=office.staff())
    assert case.status_code == 201, case.text
    for action in ("accept", "send-letter"):
        case = office.client.post(
            f"{TRANSFERS}/{case.json()['id']}/{action}",
            json={"version": case.json()["version"]},
            headers=office.staff(),
        )
        assert case.status_code == 200, case.text
    return case.json()


def fetch(office, case: dict) -> dict:  # type: ignore[no-untyped-def]
    return office.client.get(f"{TRANSFERS}/{case['id']}", headers=office.staff()).json()


def test_unknown_fields_inside_a_message_are_ignored_never_a_server_error(office) -> None:  # type: ignore[no-untyped-def]
    id_number = new_person("120101")
    letter = {
        "person": {"id_type": "resident_id", "id_number": id_number, "name": "迁移人", "birth_date": "1990-01-01"},
        "certificate_number": "1200002026999999", "receiving_office": "130202", "letter_date": "2026-12-01",
        "priority": "high",
    }  # fmt: skip
    ref = uuid.uuid4()
    answer = office.send(MessageType.letter, ref, letter)
    assert answer.status_code == 200, (
        answer.text
    )  # forward compatible: a v1 receiver ignores what it does not know
    assert [r.body["reason_code"] for r in office.outbox(transfer_ref=ref, type="rejection")] == [
        "certificate_unknown"
    ]


def test_a_message_the_peer_refuses_for_good_flags_the_case_until_staff_resend_it(office) -> None:  # type: ignore[no-untyped-def]
    office.peer.answer_status = 401
    try:
        case = letter_sent_case(office)
        flagged = wait_for(
            lambda: (c := fetch(office, case))["delivery_failure"] and c, what="the refusal to flag the case"
        )
    finally:
        office.peer.answer_status = 200
    assert flagged["delivery_failure"]["type"] == "letter" and "401" in flagged["delivery_failure"]["error"]
    worklist = office.client.get(f"{TRANSFERS}/worklist", headers=office.staff()).json()["items"]
    item = next(i for i in worklist if i["id"] == case["id"])
    assert item["step"]["step"] == "resend" and item["delivery_failure"]
    [row] = office.outbox(transfer_ref=uuid.UUID(case["transfer_ref"]))
    time.sleep(1)  # refused for good: no more attempts
    assert (
        row.status == "refused"
        and office.outbox(transfer_ref=uuid.UUID(case["transfer_ref"]))[0].attempts == row.attempts
    )
    resent = office.client.post(
        f"{TRANSFERS}/{case['id']}/resend", json={"version": flagged["version"], "note": "对端已更正密钥配置"},
        headers=office.staff(),
    )  # fmt: skip
    assert resent.status_code == 200 and resent.json()["delivery_failure"] is None, resent.text
    wait_for(
        lambda: any(m.transfer_ref == uuid.UUID(case["transfer_ref"]) for m in office.peer.received),
        what="the letter",
    )
    again = office.client.post(
        f"{TRANSFERS}/{case['id']}/resend",
        json={"version": resent.json()["version"], "note": "再次"},
        headers=office.staff(),
    )
    assert again.status_code == 409 and again.json()["code"] == "nothing_to_resend"


def test_retries_to_a_peer_that_never_answers_stop_and_flag_the_case(office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    peers(office, other_peer("110000", dead_url(), tmp_path))
    try:
        case = letter_sent_case(office, issuing_office="110000")
        ref = uuid.UUID(case["transfer_ref"])
        dead = wait_for(
            lambda: [r for r in office.outbox(transfer_ref=ref) if r.status == "dead"], what="the give-up"
        )
        assert dead[0].attempts == 4  # interop_max_attempts of this harness
        time.sleep(1)
        assert office.outbox(transfer_ref=ref)[0].attempts == 4  # no more attempts
        failure = wait_for(lambda: fetch(office, case)["delivery_failure"], what="the case flagged")
        assert "不可达" in failure["error"] and "停止重试" in failure["error"]
    finally:
        peers(office)


def test_a_hanging_peer_does_not_delay_a_letter_to_another_peer(office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastapi import FastAPI

    hanging = FastAPI()

    @hanging.post("/interop/v1/messages")
    async def never_answers() -> None:
        await asyncio.sleep(30)

    with serve(hanging) as hanging_url:
        peers(office, other_peer("440300", hanging_url, tmp_path))
        try:
            interop = office.client.app.state.interop
            for _ in range(6):
                office.work(
                    lambda uow: interop.queue(uow, "440300", MessageType.status_query, uuid.uuid4(), {})
                )
            time.sleep(0.3)  # the hanging peer's messages are claimed first
            started = time.monotonic()
            case = letter_sent_case(office)
            wait_for(
                lambda: any(m.transfer_ref == uuid.UUID(case["transfer_ref"]) for m in office.peer.received),
                what="the letter to the healthy peer",
            )
            took = time.monotonic() - started
        finally:
            peers(office)
    assert took < 2 + 2.5, took  # at most one timeout (2 s here) behind the hanging peer, not six


def test_a_broken_peers_file_makes_the_service_not_ready_and_never_answers_500(office) -> None:  # type: ignore[no-untyped-def]
    assert office.client.get("/health/ready").status_code == 200
    office.peers_file.write_text('{"peers": [{"office_code": "13020"', encoding="utf-8")
    try:
        ready = office.client.get("/health/ready")
        assert ready.status_code == 503 and "peers.json" in ready.json()["checks"]["peers"]["detail"]
        answer = office.send(MessageType.status_query, uuid.uuid4(), {})
        assert answer.status_code == 200, answer.text  # the last good configuration still serves
    finally:
        peers(office)
    assert office.client.get("/health/ready").status_code == 200


@pytest.fixture(autouse=True)
def _peers_restored(office):  # type: ignore[no-untyped-def]
    yield
    peers(office)


def test_a_message_given_up_is_counted_makes_health_degraded_and_shows_on_the_ops_data_until_resent(
    office, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Never silent: beside the case's flag, the metric the alert reads, /health and the ops page's data."""
    from fastapi import FastAPI
    from prometheus_client import REGISTRY

    from shared.auth import Role

    wrong_url = FastAPI()  # a mistyped base URL: the other end answers 404 to everything

    def given_up() -> float:
        labels = {"service": "transfer", "peer": "350200", "reason": "refused"}
        return REGISTRY.get_sample_value("yb_peer_messages_given_up_total", labels) or 0.0

    def peer_on_ops_page() -> dict:
        status = office.client.get("/internal/ops/status", headers=office.harness.token(Role.ops))
        assert status.status_code == 200, status.text
        return next(p for p in status.json()["peers"] if p["peer"] == "350200")

    before = given_up()
    with serve(wrong_url) as url:
        peers(office, other_peer("350200", url, tmp_path))
        try:
            case = letter_sent_case(office, issuing_office="350200")
            flagged = wait_for(lambda: (c := fetch(office, case))["delivery_failure"] and c, what="the flag")
        finally:
            peers(office)
    assert given_up() == before + 1
    health = office.client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "degraded", health.text
    assert "peers" in health.json()["degraded"]
    assert health.json()["checks"]["peers"]["awaiting_resend"]["350200"] == 1
    assert "350200（1 件）" in health.json()["checks"]["peers"]["detail"]
    # Prometheus reads the same report as /health (the scrape once set the gauge back to 0).
    scraped = office.client.get("/metrics")
    assert 'yb_service_degraded{service="transfer"} 1.0' in scraped.text.splitlines(), scraped.text[:2000]
    wait_for(lambda: peer_on_ops_page()["awaiting_resend"] == 1, what="the ops data (cached 5 s)")
    assert (
        REGISTRY.get_sample_value("yb_peer_cases_awaiting_resend", {"service": "transfer", "peer": "350200"})
        == 1
    )

    resent = office.client.post(
        f"{TRANSFERS}/{case['id']}/resend", json={"version": flagged["version"], "note": "地址已更正"},
        headers=office.staff(),
    )  # fmt: skip
    assert resent.status_code == 200, resent.text
    peers_check = (
        office.client.get("/health").json()["checks"].get("peers", {})
    )  # present only while some wait
    assert "350200" not in peers_check.get("awaiting_resend", {})


def test_the_transfer_deadline_kinds_reach_the_ops_data_named_in_chinese(office) -> None:  # type: ignore[no-untyped-def]
    from shared.auth import Role

    status = office.client.get("/internal/ops/status", headers=office.harness.token(Role.ops))
    assert status.status_code == 200, status.text
    titles = {d["kind"]: d["title"] for d in status.json()["deadlines"]}
    assert titles == {"transfer_step": "转移接续环节", "transfer_whole": "转移接续全程（受理后20个工作日）"}


def test_the_exchanges_audit_shows_refusals_to_city_staff_without_the_databases_hash_chain(office) -> None:  # type: ignore[no-untyped-def]
    junk = office.client.post(
        "/interop/v1/messages", content=b"junk", headers={"Content-Type": "application/jose"}
    )
    assert junk.status_code == 400
    answer = office.client.get("/api/v1/transfer/interop/audit", params={"limit": 20}, headers=office.staff())
    assert answer.status_code == 200, answer.text
    rows = answer.json()["items"]
    assert any(r["outcome"] == "refused:malformed_message" for r in rows)
    assert set(rows[0]) == {"id", "at", "direction", "peer", "message_id", "type", "outcome", "detail"}
    # One peer's rows (the endpoint's other query), also without the chain's bytes.
    assert office.send(MessageType.status_query, uuid.uuid4(), {}).status_code == 200
    one_peer = office.client.get(
        "/api/v1/transfer/interop/audit", params={"peer": PEER, "limit": 5}, headers=office.staff()
    )
    assert one_peer.status_code == 200, one_peer.text
    assert one_peer.json()["items"] and {r["peer"] for r in one_peer.json()["items"]} == {PEER}
    assert all(set(r) == set(rows[0]) for r in one_peer.json()["items"])
