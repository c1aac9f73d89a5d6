"""Transfer between two deployments on this machine: Tangshan (130200) and Tianjin (120000).

Each runs its own whole platform (database, broker namespace, ports, token keys, signing key); they
know each other only through their peers files. Everything goes through the two gateways.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg
import httpx
import pytest
from pypdf import PdfReader

from shared.auth import Principal, Role
from shared.calendar import default_calendar
from shared.identity import IdType, person_id_for
from shared.migrations import service_database_url
from shared.testing.e2e import FAST_INTEROP, bearer, business_today, new_resident_id, poll
from shared.testing.runs import RunServers
from shared.testing.tokens import listed_token
from svc_transfer.interop.peers import write_peers
from svc_transfer.interop.protocol import MEDIA_TYPE, Message, MessageType, Signer
from yb_deploy.platform import (
    INTEROP_KEY_FILE,
    PlatformConfig,
    interop_signer,
    prepare,
    start_all,
    start_process,
    stop_all,
    stop_process,
    wait_until_ready,
)
from yb_deploy.pytest_plugin import isolated_servers, platform_config_for

PERSON_KEY = b"development-only-person-key-change-me"


@dataclass
class Deployment:
    config: PlatformConfig
    client: httpx.Client
    staff: dict[str, str]  # headers of a staff member of this deployment's city office
    database_url: str

    def token_for(self, principal: Principal) -> dict[str, str]:
        return bearer(listed_token(self.config.keys_dir, principal))

    def person(self, id_number: str) -> dict[str, str]:
        pid = person_id_for(IdType.resident_id, id_number, PERSON_KEY)
        return self.token_for(Principal(subject=f"p-{id_number[-6:]}", role=Role.insured, person_id=pid))


def city_staff(office: str) -> Principal:
    return Principal(
        subject=f"staff-city-{office}",
        role=Role.staff,
        name="市级经办",
        office_code=office,
        office_level="city",
    )


@pytest.fixture(scope="module")
def tangshan_servers() -> Iterator[RunServers]:
    with isolated_servers() as servers:
        yield servers


@pytest.fixture(scope="module")
def tangshan(tangshan_servers: RunServers) -> Iterator[Deployment]:
    config = platform_config_for(
        tangshan_servers,
        YB_TRANSFER_OFFICE_CODE="130200",
        YB_TRANSFER_OFFICE_NAME="唐山市医疗保障经办机构",
        YB_PERIODIC_INTERVAL_S="1",
        YB_CONSUMER_RETRY_DELAYS_MS="[200,500]",
        # A low flood ceiling on /interop/v1 (still far above the anonymous burst of 100) that the
        # module's last test reaches; everything before stays well under it.
        YB_GATEWAY_INTEROP_ADDRESS_RATE_PER_S="2",
        YB_GATEWAY_INTEROP_ADDRESS_BURST="400",
        **FAST_INTEROP,
    )
    prepare(config)
    start_all(config)
    try:
        wait_until_ready(config, timeout_s=120)
        with httpx.Client(base_url=config.gateway_url, timeout=30) as client:
            deployment = Deployment(
                config, client, {}, service_database_url(tangshan_servers.admin_url, "transfer")
            )
            deployment.staff = deployment.token_for(city_staff("130200"))
            yield deployment
    finally:
        stop_all(config)


@pytest.fixture(scope="module")
def tianjin(platform: PlatformConfig, gateway: httpx.Client, test_servers: RunServers) -> Deployment:
    deployment = Deployment(platform, gateway, {}, service_database_url(test_servers.admin_url, "transfer"))
    deployment.staff = deployment.token_for(city_staff("120000"))
    return deployment


@pytest.fixture(scope="module")
def linked(tianjin: Deployment, tangshan: Deployment) -> tuple[Deployment, Deployment]:
    link(tianjin, tangshan, "seeds_5_10_5")
    return tianjin, tangshan


def link(tianjin: Deployment, tangshan: Deployment, profile: str) -> None:
    """Each office configured as the other's peer, with the other's public key (the files are re-read live)."""
    for here, there, code, name in (
        (tianjin, tangshan, "130200", "唐山市医疗保障经办机构"),
        (tangshan, tianjin, "120000", "天津市医疗保障基金管理中心"),
    ):
        write_peers(
            here.config.peers_file,
            [
                {
                    "office_code": code,
                    "name": name,
                    "url": there.config.gateway_url,
                    "profile": profile,
                    "keys": [interop_signer(there.config).public_jwk()],
                }
            ],
        )


# --------------------------------------------------------------------------- steps of the journey


def enroll(d: Deployment, id_number: str, office: str) -> dict:
    body = {
        "person": {"id_number": id_number, "name": "迁移人"},
        "office_code": office,
        "tier": "adult_middle",
        "coverage_year": business_today().year,
        "paid_on": f"{business_today().year - 1}-10-15",
        "materials": {"id_document": "original"},
    }
    created = d.client.post("/api/v1/registration/enrollments/residents", json=body, headers=d.staff)
    assert created.status_code == 201, created.text
    approved = d.client.post(
        f"/api/v1/registration/enrollments/{created.json()['id']}/approve",
        json={"version": 1},
        headers=d.staff,
    )
    assert approved.status_code == 200, approved.text
    return approved.json()


def certificate_in_tangshan(tangshan: Deployment, id_number: str, arrears: str = "0.00") -> tuple[dict, str]:
    enrollment = enroll(tangshan, id_number, "130200")
    stopped = tangshan.client.post(
        f"/api/v1/registration/enrollments/{enrollment['id']}/stop",
        json={"version": enrollment["version"], "reason": "单位停保，调往天津工作"},
        headers=tangshan.staff,
    )
    assert stopped.status_code == 200, stopped.text
    # The clerk names the person and may annotate: coverage and balance come from the records.
    body = {
        "person": {"id_number": id_number, "name": "迁移人"},
        "arrears": arrears,
        "note": "单位停保，调往天津工作",
    }

    def issued() -> dict | None:
        response = tangshan.client.post("/api/v1/transfer/certificates", json=body, headers=tangshan.staff)
        assert response.status_code in (201, 404, 409), response.text  # 404/409 until the stop event arrives
        return response.json() if response.status_code == 201 else None

    return poll(
        issued, what="the certificate (after registration's stop event reaches transfer)"
    ), enrollment["id"]


def months_on_record(tangshan: Deployment, enrollment_id: str, certificate: dict) -> int:
    """The months registration's enrollment covered, from its first day to the stop (inclusive months)."""
    enrollment = tangshan.client.get(
        f"/api/v1/registration/enrollments/{enrollment_id}", headers=tangshan.staff
    ).json()
    start, end = (
        date.fromisoformat(enrollment["benefit_start"]),
        date.fromisoformat(certificate["coverage_ended_on"]),
    )
    return (end.year - start.year) * 12 + end.month - start.month + 1


def apply_in_tianjin(tianjin: Deployment, id_number: str, certificate: dict) -> dict:
    enroll(tianjin, id_number, "120101")
    body = {
        "person": {"id_number": id_number, "name": "迁移人"},
        "certificate": {
            "number": certificate["number"],
            "issuing_office": "130200",
            "coverage_ended_on": certificate["coverage_ended_on"],
            "contribution_months": certificate["contribution_months"],
            "account_balance": certificate["account_balance"],
            "arrears": certificate["arrears"],
        },
    }

    def applied() -> dict | None:
        response = tianjin.client.post(
            "/api/v1/transfer/transfers", json=body, headers=tianjin.person(id_number)
        )
        assert response.status_code in (201, 422), (
            response.text
        )  # 422 not_enrolled_here until the approval arrives
        return response.json() if response.status_code == 201 else None

    return poll(applied, what="the application (after registration's approval reaches transfer)")


def act(d: Deployment, case: dict, action: str, headers: dict[str, str], **extra) -> dict:  # type: ignore[no-untyped-def]
    response = d.client.post(
        f"/api/v1/transfer/transfers/{case['id']}/{action}",
        json={"version": case["version"], **extra},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def case_in(d: Deployment, case_id: str, headers: dict[str, str]) -> dict:
    response = d.client.get(f"/api/v1/transfer/transfers/{case_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def outgoing_case(tangshan: Deployment, transfer_ref: str) -> dict | None:
    items = tangshan.client.get(
        "/api/v1/transfer/transfers", params={"size": 100}, headers=tangshan.staff
    ).json()["items"]
    return next((c for c in items if c["side"] == "outgoing" and c["transfer_ref"] == transfer_ref), None)


# --------------------------------------------------------------------------- the journey


def test_a_person_moves_from_tangshan_to_tianjin(linked, tokens) -> None:  # type: ignore[no-untyped-def]
    tianjin, tangshan = linked
    id_number = new_resident_id("130202")
    certificate, enrollment_id = certificate_in_tangshan(tangshan, id_number, arrears="320.00")
    months = months_on_record(tangshan, enrollment_id, certificate)
    assert certificate["contribution_months"] == months and certificate["arrears_warning"]
    # No personal-account record exists yet: the certificate says so rather than stating a typed figure.
    assert certificate["account_balance"] == "0.00" and certificate["account_balance_stated"] is False
    after_stop = (date.fromisoformat(certificate["coverage_ended_on"]) + timedelta(days=1)).isoformat()

    def ineligible_in_tangshan() -> bool:
        answer = tangshan.client.get(
            "/api/v1/claims/eligibility/me", params={"on": after_stop}, headers=tangshan.person(id_number)
        )
        return answer.status_code == 200 and answer.json()["eligible"] is False

    poll(ineligible_in_tangshan, what="Tangshan's claims to end benefits after 中止参保")
    claims_url = tangshan.database_url.replace("yb_transfer@", "yb_claims@")
    assert (
        asyncio.run(_events_of(claims_url, "claims", "claims.ineligible")) >= 1
    )  # told to the other services
    assert "*" in certificate["person"]["id_number"]
    mine = tangshan.client.get(
        "/api/v1/transfer/certificates/mine", headers=tangshan.person(id_number)
    ).json()["items"]
    assert [c["number"] for c in mine] == [certificate["number"]]
    printed = tangshan.client.get(
        f"/api/v1/transfer/certificates/{certificate['number']}/document.pdf",
        headers=tangshan.person(id_number),
    )
    assert printed.status_code == 200 and printed.headers["content-type"] == "application/pdf"
    text = " ".join(PdfReader(io.BytesIO(printed.content)).pages[0].extract_text().split())
    assert (
        certificate["number"] in text
        and f"{months} 个月（{months // 12} 年 {months % 12} 个月）" in text
        and "未载明" in text
        and "320.00" in text
    )
    lost = tangshan.client.post(
        f"/api/v1/transfer/certificates/{certificate['number']}/reissue", headers=tangshan.person(id_number)
    )
    assert (
        lost.status_code == 200 and len(lost.json()["reissues"]) == 1
    )  # 补办: same number, the reissue recorded
    # Tangshan's registration shows the certificate on the person's record (transfer.certificate_issued).
    on_record = poll(
        lambda: (
            (
                found := tangshan.client.get(
                    "/api/v1/registration/enrollments/certificates", headers=tangshan.person(id_number)
                ).json()["items"]
            )
            and found[0]["reissues"] == 1
            and found
        ),
        what="Tangshan's registration to record the certificate and its reissue",
    )
    assert [(c["number"], c["contribution_months"], c["account_balance"]) for c in on_record] == [
        (certificate["number"], months, "0.00")
    ]

    case = apply_in_tianjin(tianjin, id_number, certificate)
    assert (
        case["status"] == "submitted" and case["office_code"] == "120101" and case["warnings"]
    )  # arrears told, not blocking
    heping = bearer(tokens["staff-heping"])
    case = act(tianjin, case, "accept", heping)
    assert case["steps"][0]["step"] == "send_letter" and case["steps"][0]["due_on"]
    case = act(tianjin, case, "send-letter", heping)
    assert case["status"] == "letter_sent"

    out = poll(lambda: outgoing_case(tangshan, case["transfer_ref"]), what="the letter to arrive in Tangshan")
    assert out["status"] == "letter_received" and out["steps"][0]["step"] == "send_table"
    asked = tianjin.client.get(f"/api/v1/transfer/transfers/{case['id']}/peer-status", headers=heping)
    assert (
        asked.status_code == 200 and asked.json()["status"] == "letter_received"
    )  # Tangshan's answer, signed
    worklist = tangshan.client.get("/api/v1/transfer/transfers/worklist", headers=tangshan.staff).json()[
        "items"
    ]
    assert out["id"] in [item["id"] for item in worklist]
    out = act(tangshan, out, "send-table", tangshan.staff, fund_reference="TS-BANK-20261122-0001")
    assert out["status"] == "transferred_out"

    done = poll(
        lambda: (c := case_in(tianjin, case["id"], heping))["status"] == "awaiting_completion" and c,
        what="the information table and the funds to arrive in Tianjin",
    )
    assert done["steps"][-1]["step"] == "complete"
    completed = act(tianjin, done, "complete", heping)
    assert completed["status"] == "completed"
    # What Tangshan attested arrives intact: contribution years, history and balance.
    assert completed["table"]["contribution_months"] == months
    assert [(p["start"], p["end"], p["months"]) for p in completed["table"]["history"]] == [
        (p["start"], p["end"], p["months"]) for p in certificate["history"]
    ]
    assert completed["table"]["account_balance"] == "0.00" and completed["funds"]["amount"] == "0.00"
    assert completed["funds"]["reference"] == "TS-BANK-20261122-0001"

    # The person follows their case, and is eligible in Tianjin's claims.
    own = case_in(tianjin, case["id"], tianjin.person(id_number))
    assert own["status"] == "completed" and "*" in own["person"]["id_number"]
    eligibility = tianjin.client.get("/api/v1/claims/eligibility/me", headers=tianjin.person(id_number))
    assert eligibility.status_code == 200 and eligibility.json()["eligible"] is True, eligibility.text
    # Tianjin's registration merges the contribution history into the person's record.
    merged = poll(
        lambda: tianjin.client.get(
            "/api/v1/registration/enrollments/contribution-history", headers=tianjin.person(id_number)
        ).json()["items"],
        what="Tianjin's registration to merge the transferred contribution history",
    )
    assert [(m["contribution_months"], m["account_balance"], m["from_office"]) for m in merged] == [
        (months, "0.00", "130200")
    ]

    # Tangshan's certificate is used up, and its registration marks the stopped coverage transferred out.
    used = tangshan.client.get(
        "/api/v1/transfer/certificates/" + certificate["number"], headers=tangshan.staff
    ).json()
    assert used["status"] == "transferred"

    def transferred_out() -> bool:
        enrollment = tangshan.client.get(
            f"/api/v1/registration/enrollments/{enrollment_id}", headers=tangshan.staff
        ).json()
        return enrollment["status"] == "transferred_out"

    poll(transferred_out, what="Tangshan's registration to mark the coverage transferred out")
    peers = tianjin.client.get("/api/v1/transfer/interop/peers", headers=tianjin.staff).json()["peers"]
    assert peers[0]["office_code"] == "130200" and peers[0]["pending"] == 0 and peers[0]["last_delivered_at"]


def test_a_letter_waits_while_the_peer_is_down_and_is_delivered_once_it_returns(linked, tokens) -> None:  # type: ignore[no-untyped-def]
    tianjin, tangshan = linked
    id_number = new_resident_id("130203")
    certificate, _ = certificate_in_tangshan(tangshan, id_number)
    case = apply_in_tianjin(tianjin, id_number, certificate)
    heping = bearer(tokens["staff-heping"])
    stop_process(tangshan.config, "gateway")
    try:
        case = act(tianjin, act(tianjin, case, "accept", heping), "send-letter", heping)
        waiting = poll(
            lambda: (p := _peer(tianjin, "130200"))["pending"] >= 1 and p["last_error"] and p,
            what="a failed attempt",
        )
        assert "不可达" in waiting["last_error"]
        time.sleep(2)
    finally:
        start_process(tangshan.config, "gateway")
        wait_until_ready(tangshan.config)
    out = poll(
        lambda: outgoing_case(tangshan, case["transfer_ref"]),
        timeout_s=30,
        what="the letter after the peer returned",
    )
    assert out["status"] == "letter_received"
    assert _peer(tianjin, "130200")["pending"] == 0


def _peer(d: Deployment, code: str) -> dict:
    return next(
        p
        for p in d.client.get("/api/v1/transfer/interop/peers", headers=d.staff).json()["peers"]
        if p["office_code"] == code
    )


def test_a_letter_for_a_certificate_tangshan_never_issued_is_rejected_with_a_reason(linked, tokens) -> None:  # type: ignore[no-untyped-def]
    tianjin, tangshan = linked
    id_number = new_resident_id("130204")
    enroll(tangshan, id_number, "130200")  # known in Tangshan, but no certificate was issued
    fake = {
        "number": "1302002026999999",
        "coverage_ended_on": "2026-08-31",
        "contribution_months": 12,
        "account_balance": "100.00",
        "arrears": "0.00",
    }
    case = apply_in_tianjin(tianjin, id_number, fake)
    heping = bearer(tokens["staff-heping"])
    case = act(tianjin, act(tianjin, case, "accept", heping), "send-letter", heping)
    rejected = poll(
        lambda: (
            (c := case_in(tianjin, case["id"], tianjin.person(id_number)))["status"] == "rejected_by_peer"
            and c
        ),
        what="Tangshan's rejection",
    )
    assert rejected["reason_code"] == "certificate_unknown" and "参保凭证" in rejected["reason"]


def test_signed_messages_act_once_and_forged_stale_or_unknown_ones_are_refused(linked, tokens) -> None:  # type: ignore[no-untyped-def]
    tianjin, tangshan = linked
    id_number = new_resident_id("130205")
    certificate, _ = certificate_in_tangshan(tangshan, id_number)
    case = apply_in_tianjin(tianjin, id_number, certificate)
    heping = bearer(tokens["staff-heping"])
    case = act(tianjin, act(tianjin, case, "accept", heping), "send-letter", heping)
    # From here the test plays Tangshan's part with Tangshan's key.
    tangshan_key = Signer.load_or_create("130200", tangshan.config.keys_dir / INTEROP_KEY_FILE)
    funds = Message(
        uuid.uuid4(),
        MessageType.fund_transfer,
        "130200",
        "120000",
        uuid.UUID(case["transfer_ref"]),
        {"amount": "5321.40", "reference": "TS-BANK-X", "transferred_on": business_today().isoformat()},
    )

    def deliver(token: str) -> httpx.Response:
        return tianjin.client.post(
            "/interop/v1/messages", content=token, headers={"Content-Type": MEDIA_TYPE}
        )

    first, again = deliver(tangshan_key.sign(funds)), deliver(tangshan_key.sign(funds))
    assert first.status_code == 200 and again.status_code == 200, (first.text, again.text)
    assert case_in(tianjin, case["id"], heping)["funds"]["amount"] == "5321.40"
    history = case_in(tianjin, case["id"], heping)["history"]
    assert [h["action"] for h in history].count("receive_funds") == 1  # delivered twice, one effect

    table = Message(
        uuid.uuid4(),
        MessageType.information_table,
        "130200",
        "120000",
        funds.transfer_ref,
        {
            "certificate_number": "x",
            "person": {},
            "contribution_months": 999,
            "history": [],
            "account_balance": "999999.00",
            "coverage_ended_on": "2026-08-31",
        },
    )
    impostor = Signer.load_or_create("130200", tangshan.config.data_dir / "impostor.pem")
    stranger = Signer.load_or_create("110000", tangshan.config.data_dir / "stranger.pem")
    header, _, signature = tangshan_key.sign(table).split(".")
    _, altered_payload, _ = tangshan_key.sign(
        Message(
            table.id,
            table.type,
            "130200",
            "120000",
            table.transfer_ref,
            {**table.body, "contribution_months": 1},
        )
    ).split(".")
    refusals = {
        "forged": deliver(impostor.sign(table)),
        "altered": deliver(f"{header}.{altered_payload}.{signature}"),
        "unknown sender": deliver(
            stranger.sign(Message(table.id, table.type, "110000", "120000", table.transfer_ref, table.body))
        ),
        "replayed late": deliver(tangshan_key.sign(table, now=time.time() - 3600)),
        "garbage": deliver("this is not a message"),
        "signed but malformed": deliver(
            tangshan_key.sign(
                Message(
                    uuid.uuid4(),
                    MessageType.information_table,
                    "130200",
                    "120000",
                    table.transfer_ref,
                    {"contribution_months": "many"},
                )
            )
        ),
    }
    codes = {name: (r.status_code, r.json()["code"]) for name, r in refusals.items()}
    assert codes == {
        "forged": (401, "invalid_signature"),
        "altered": (401, "invalid_signature"),
        "unknown sender": (403, "unknown_sender"),
        "replayed late": (401, "stale_message"),
        "garbage": (400, "malformed_message"),
        "signed but malformed": (422, "invalid_message_body"),
    }
    after = case_in(tianjin, case["id"], heping)
    assert after["table"] is None and after["status"] == "letter_sent"  # no effect
    answer = tianjin.client.get("/api/v1/transfer/interop/audit", params={"limit": 50}, headers=tianjin.staff)
    assert answer.status_code == 200, answer.text
    audit = answer.json()["items"]
    outcomes = [row["outcome"] for row in audit]
    for code in (
        "refused:invalid_signature",
        "refused:unknown_sender",
        "refused:stale_message",
        "refused:malformed_message",
    ):
        assert code in outcomes
    assert "duplicate" in outcomes


def test_a_step_left_past_due_raises_one_overdue_alert_and_shows_in_the_worklist(linked, tokens) -> None:  # type: ignore[no-untyped-def]
    tianjin, tangshan = linked
    id_number = new_resident_id("130207")
    certificate, _ = certificate_in_tangshan(tangshan, id_number)
    case = act(
        tianjin, apply_in_tianjin(tianjin, id_number, certificate), "accept", bearer(tokens["staff-heping"])
    )
    due = date.fromisoformat(case["steps"][0]["due_on"])
    admin = bearer(tokens["admin"])
    heping = bearer(tokens["staff-heping"])
    assert (
        tianjin.client.put(
            "/api/v1/admin/business-date", json={"date": (due + timedelta(days=1)).isoformat()}, headers=admin
        ).status_code
        == 200
    )
    try:
        seen = poll(
            lambda: (c := case_in(tianjin, case["id"], heping))["steps"][0]["overdue_announced"] and c,
            what="the overdue alert",
        )
        assert seen["steps"][0]["overdue"] is True

        def ops_sees_it() -> bool:
            status = tianjin.client.get("/api/v1/ops/status", headers=bearer(tokens["ops"])).json()
            return next(d for d in status["deadlines"] if d["kind"] == "transfer_step")["overdue"] >= 1

        poll(ops_sees_it, what="the ops page to count the overdue step")
        status = tianjin.client.get("/api/v1/ops/status", headers=bearer(tokens["ops"])).json()
        whole = next(
            d for d in status["deadlines"] if d["kind"] == "transfer_whole"
        )  # the 20 days beside the steps
        assert whole["available"] is True and whole["title"] == "转移接续全程（受理后20个工作日）"
        overdue = tianjin.client.get(
            "/api/v1/transfer/transfers/worklist", params={"overdue": "true"}, headers=heping
        ).json()["items"]
        assert case["id"] in [item["id"] for item in overdue]
        time.sleep(2.5)  # more scans run: still one alert
        assert (
            asyncio.run(
                _events_of(tianjin.database_url, "transfer", "transfer.overdue", transfer_id=case["id"])
            )
            == 1
        )
    finally:
        tianjin.client.put("/api/v1/admin/business-date", json={"date": None}, headers=admin)


def test_access_and_bad_input(linked, tokens) -> None:  # type: ignore[no-untyped-def]
    tianjin, _ = linked
    peer = tianjin.token_for(Principal(subject="peer-130200", role=Role.peer_office, office_code="130200"))
    assert tianjin.client.get("/api/v1/transfer/transfers", headers=peer).status_code == 403
    someone_else = tianjin.person(new_resident_id("120101"))
    listing = tianjin.client.get("/api/v1/transfer/transfers", headers=someone_else).json()
    assert listing["items"] == []
    bad = {
        "person": {"id_number": "130202199001011234", "name": "x"},
        "certificate": {
            "number": "1",
            "issuing_office": "13020",
            "coverage_ended_on": "2026-02-30",
            "contribution_months": -1,
            "account_balance": "12.345",
        },
    }
    response = tianjin.client.post("/api/v1/transfer/transfers", json=bad, headers=someone_else)
    assert response.status_code == 422 and response.headers["content-type"].startswith(
        "application/problem+json"
    )
    fields = {e["field"] for e in response.json()["errors"]}
    assert {
        "body.certificate.issuing_office",
        "body.certificate.coverage_ended_on",
        "body.certificate.contribution_months",
        "body.certificate.account_balance",
    } <= fields, fields
    unknown_peer = {
        "person": {"id_number": new_resident_id("120101"), "name": "某人"},
        "certificate": {
            "number": "9999",
            "issuing_office": "440300",
            "coverage_ended_on": "2026-01-31",
            "contribution_months": 1,
            "account_balance": "1.00",
        },
    }
    staff = bearer(tokens["staff-heping"])
    assert (
        tianjin.client.post("/api/v1/transfer/transfers", json=unknown_peer, headers=staff).json()["code"]
        == "unknown_peer_office"
    )


def test_online_procedure_applied_at_the_outgoing_office_needs_no_letter(linked, tokens) -> None:  # type: ignore[no-untyped-def]
    tianjin, tangshan = linked
    id_number = new_resident_id("130208")
    certificate, _ = certificate_in_tangshan(tangshan, id_number)
    enroll(tianjin, id_number, "120101")
    link(tianjin, tangshan, "national_2021_online")
    try:
        letter_profile = tangshan.client.post(
            "/api/v1/transfer/transfers/outgoing",
            headers=tangshan.person(id_number),
            json={"certificate_number": certificate["number"], "destination_office": "120000"},
        )
        assert letter_profile.status_code == 201, letter_profile.text
        out = letter_profile.json()
        assert out["side"] == "outgoing" and out["steps"][0]["step"] == "send_table"
        started = date.fromisoformat(out["steps"][0]["started_on"])
        assert out["steps"][0]["due_on"] == default_calendar().add_working_days(started, 10).date.isoformat()
        again = tangshan.client.post(
            "/api/v1/transfer/transfers/outgoing",
            headers=tangshan.person(id_number),
            json={"certificate_number": certificate["number"], "destination_office": "120000"},
        )
        assert again.status_code == 409
        out = act(tangshan, out, "send-table", tangshan.staff, fund_reference="TS-BANK-ONLINE-1")

        def opened_in_tianjin() -> dict | None:
            items = tianjin.client.get(
                "/api/v1/transfer/transfers", headers=tianjin.person(id_number)
            ).json()["items"]
            return next(
                (
                    c
                    for c in items
                    if c["transfer_ref"] == out["transfer_ref"] and c["status"] == "awaiting_completion"
                ),
                None,
            )

        incoming = poll(opened_in_tianjin, what="Tianjin to open the case from the table and funds")
        assert incoming["office_code"] == "120101"
        assert incoming["table"]["contribution_months"] == certificate["contribution_months"]
        completed = act(tianjin, incoming, "complete", bearer(tokens["staff-heping"]))
        assert completed["status"] == "completed"
    finally:
        link(tianjin, tangshan, "seeds_5_10_5")
    refused = tangshan.client.post(
        "/api/v1/transfer/transfers/outgoing",
        headers=tangshan.staff,
        json={"certificate_number": certificate["number"], "destination_office": "120000"},
    )
    assert refused.status_code == 422 and refused.json()["code"] == "apply_at_incoming_office"


def test_a_veteran_brings_the_army_certificate_and_the_unit_follows_the_case(linked, tokens) -> None:  # type: ignore[no-untyped-def]
    tianjin, _ = linked
    id_number = new_resident_id("120101")
    enroll(tianjin, id_number, "120101")
    army = {
        "kind": "army",
        "number": "JZ2026-00017",
        "army_kind": "军人退役医疗保险个人账户转移凭证",
        "coverage_ended_on": "2026-09-30",
        "contribution_months": 48,
        "account_balance": "8800.00",
    }
    body = {
        "person": {"id_number": id_number, "name": "退役军人"},
        "certificate": army,
        "unit_id": "91120101MA05K8Q4X9",
    }
    case = poll(
        lambda: (
            (
                r := tianjin.client.post(
                    "/api/v1/transfer/transfers", json=body, headers=tianjin.person(id_number)
                )
            ).status_code
            == 201
            and r.json()
        ),
        what="the application (after the approval reaches transfer)",
    )
    assert case["peer_office"] is None  # no other office: the army's finance department sent the money
    heping = bearer(tokens["staff-heping"])
    accepted = act(tianjin, case, "accept", heping)
    assert accepted["status"] == "awaiting_completion" and accepted["steps"][0]["step"] == "complete"
    unit_view = tianjin.client.get(
        f"/api/v1/transfer/transfers/{case['id']}", headers=bearer(tokens["unit-demo"])
    )
    assert unit_view.status_code == 200 and unit_view.json()["steps"][0]["due_on"]
    other = tianjin.client.get(
        f"/api/v1/transfer/transfers/{case['id']}", headers=tianjin.person(new_resident_id("120101"))
    )
    assert other.status_code == 404  # another person's case does not exist for them
    done = act(tianjin, accepted, "complete", heping)
    assert done["status"] == "completed" and done["certificate"]["account_balance"] == "8800.00"


async def _events_of(database_url: str, schema: str, event_type: str, transfer_id: str | None = None) -> int:
    """How many events of a type a service wrote to its outbox (optionally: about one transfer)."""
    query = f"SELECT count(*) FROM {schema}.outbox WHERE event_type = $1"
    arguments: list[str] = [event_type]
    if transfer_id is not None:
        query += " AND envelope->'payload'->>'transfer_id' = $2"
        arguments.append(transfer_id)
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return await connection.fetchval(query, *arguments)
    finally:
        await connection.close()


# --------------------------------------------------------------------------- money and access through the gateways


def deliver_as(
    sender: Deployment, receiver: Deployment, type_: MessageType, ref: uuid.UUID, body: dict
) -> httpx.Response:
    """A message signed with the sender deployment's own key, posted to the receiver's gateway (the test
    plays the sender's part, as a careless or hostile peer office would)."""
    signer = interop_signer(sender.config)
    audience = interop_signer(receiver.config).office_code
    token = signer.sign(Message(uuid.uuid4(), type_, signer.office_code, audience, ref, body))
    return receiver.client.post("/interop/v1/messages", content=token, headers={"Content-Type": MEDIA_TYPE})


def test_two_letters_for_one_certificate_lead_to_one_table_and_one_fund_transfer(linked) -> None:  # type: ignore[no-untyped-def]
    tianjin, tangshan = linked
    id_number = new_resident_id("130209")
    certificate, _ = certificate_in_tangshan(tangshan, id_number)
    typed = tangshan.client.post(
        "/api/v1/transfer/certificates", headers=tangshan.staff,
        json={"person": {"id_number": id_number, "name": "迁移人"}, "account_balance": "99999.00",
              "history": [{"start": "2009-01", "end": "2025-12"}]},
    )  # fmt: skip
    assert typed.status_code == 422  # a clerk cannot type coverage or a balance onto the certificate
    letter = {"person": {"id_type": "resident_id", "id_number": id_number, "name": "迁移人"},
              "certificate_number": certificate["number"], "receiving_office": "120101", "letter_date": business_today().isoformat()}  # fmt: skip
    first, second = uuid.uuid4(), uuid.uuid4()
    assert deliver_as(tianjin, tangshan, MessageType.letter, first, letter).status_code == 200
    assert deliver_as(tianjin, tangshan, MessageType.letter, second, letter).status_code == 200
    one = poll(lambda: outgoing_case(tangshan, str(first)), what="the first letter's case")
    other = poll(lambda: outgoing_case(tangshan, str(second)), what="the second letter's case")
    assert one["status"] == "letter_received"
    assert other["status"] == "rejected" and other["reason_code"] == "already_transferred"
    assert (
        act(tangshan, one, "send-table", tangshan.staff, fund_reference="TS-BANK-ONCE-1")["status"]
        == "transferred_out"
    )
    again = tangshan.client.post(
        f"/api/v1/transfer/transfers/{other['id']}/send-table", json={"version": other["version"], "fund_reference": "TS-BANK-ONCE-2"},
        headers=tangshan.staff,
    )  # fmt: skip
    assert again.status_code == 409
    sent = asyncio.run(_interop_messages(tangshan.database_url, "fund_transfer", (str(first), str(second))))
    assert sent == 1


def test_tianjin_credits_what_the_table_attests_and_holds_a_differing_fund_notice(linked, tokens) -> None:  # type: ignore[no-untyped-def]
    tianjin, tangshan = linked
    id_number = new_resident_id("130210")
    certificate, _ = certificate_in_tangshan(tangshan, id_number)
    heping = bearer(tokens["staff-heping"])
    case = act(
        tianjin,
        act(tianjin, apply_in_tianjin(tianjin, id_number, certificate), "accept", heping),
        "send-letter",
        heping,
    )
    ref = uuid.UUID(case["transfer_ref"])
    table = {"certificate_number": certificate["number"],
             "person": {"id_type": "resident_id", "id_number": id_number, "name": "迁移人"},
             "contribution_months": 12, "history": [{"start": "2025-01", "end": "2025-12", "months": 12}],
             "account_balance": "1000.00", "coverage_ended_on": certificate["coverage_ended_on"]}  # fmt: skip
    someone_else = {**table, "person": {**table["person"], "id_number": new_resident_id("130211")}}
    ninety_nine = {**table, "contribution_months": 99}
    refused = {
        "another person": deliver_as(tangshan, tianjin, MessageType.information_table, ref, someone_else),
        "99 months in 12": deliver_as(tangshan, tianjin, MessageType.information_table, ref, ninety_nine),
    }
    assert {k: (r.status_code, r.json()["code"]) for k, r in refused.items()} == {
        "another person": (422, "table_mismatch"), "99 months in 12": (422, "invalid_message_body"),
    }  # fmt: skip
    assert deliver_as(tangshan, tianjin, MessageType.information_table, ref, table).status_code == 200
    notice = {
        "amount": "999999.99",
        "reference": "TS-BANK-HOSTILE",
        "transferred_on": business_today().isoformat(),
    }
    assert deliver_as(tangshan, tianjin, MessageType.fund_transfer, ref, notice).status_code == 200
    replaced = deliver_as(tangshan, tianjin, MessageType.fund_transfer, ref, {**notice, "amount": "1000.00"})
    assert replaced.status_code == 422 and replaced.json()["code"] == "funds_already_received"
    held = case_in(tianjin, case["id"], heping)
    assert held["status"] == "funds_held" and held["funds"]["amount"] == "999999.99"
    assert held["steps"][-1]["step"] == "check_funds"
    completing = tianjin.client.post(
        f"/api/v1/transfer/transfers/{case['id']}/complete", json={"version": held["version"]}, headers=heping
    )
    assert completing.status_code == 409  # nothing credited while the notice and the table disagree
    confirmed = act(
        tianjin, held, "confirm-funds", heping, amount_received="1000.00", note="银行到账 1000.00 元"
    )
    completed = act(tianjin, confirmed, "complete", heping)
    assert completed["status"] == "completed"
    merged = poll(
        lambda: [m for m in tianjin.client.get("/api/v1/registration/enrollments/contribution-history",
                                               headers=tianjin.person(id_number)).json()["items"] if m["from_office"] == "130200"],
        what="the credited balance in Tianjin's registration",
    )  # fmt: skip
    assert [m["account_balance"] for m in merged] == ["1000.00"]  # the table's, never 999,999.99


def test_the_case_list_through_the_gateway_shows_nothing_to_ops_facilities_or_another_district(
    linked, tokens
) -> None:  # type: ignore[no-untyped-def]
    tianjin, _ = linked
    id_number = new_resident_id("130212")
    enroll(tianjin, id_number, "120101")
    case = poll(
        lambda: (r := tianjin.client.post("/api/v1/transfer/transfers", headers=tianjin.person(id_number), json={
            "person": {"id_number": id_number, "name": "迁移人"},
            "certificate": {"number": "1302002026000555", "issuing_office": "130200", "coverage_ended_on": "2025-12-31",
                            "contribution_months": 12, "account_balance": "10.00"}})).status_code == 201 and r.json(),
        what="the application",
    )  # fmt: skip
    for account in ("ops", "facility-demo", "pharmacy-applicant"):
        listing = tianjin.client.get("/api/v1/transfer/transfers", headers=bearer(tokens[account]))
        assert listing.status_code == 403, account
    hexi = tianjin.client.get(
        "/api/v1/transfer/transfers", params={"size": 100}, headers=bearer(tokens["staff-hexi"])
    )
    assert hexi.status_code == 200 and case["id"] not in [c["id"] for c in hexi.json()["items"]]
    opened = tianjin.client.post(
        f"/api/v1/transfer/transfers/{case['id']}/accept",
        json={"version": 99},
        headers=bearer(tokens["staff-hexi"]),
    )
    assert opened.status_code == 404  # not 409 version_conflict: the case does not exist for 河西
    heping = tianjin.client.get(
        "/api/v1/transfer/transfers", params={"size": 100}, headers=bearer(tokens["staff-heping"])
    )
    assert case["id"] in [c["id"] for c in heping.json()["items"]]


async def _interop_messages(database_url: str, type_: str, refs: tuple[str, ...]) -> int:
    """How many messages of a type a deployment queued for these transfers."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM transfer.interop_outbox WHERE type = $1 AND transfer_ref::text = ANY($2::text[])",
            type_, list(refs),
        )  # fmt: skip
    finally:
        await connection.close()


def test_the_conformance_kit_passes_every_case_against_our_deployment(tianjin, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """What another province runs against us (and we against it): docs/interop.md, the conformance kit,
    both sides: the kit sends as a peer, and receives as a flaky and a down office our deployment
    delivers to (re-sent by our city staff through the API, as the kit's --resend-command)."""
    import sys

    from shared.testing.asgi import bound_socket
    from svc_transfer.conformance import main as conformance

    key = tmp_path / "kit.pem"
    assert conformance(["--as-office", "990000", "--key", str(key), "--print-key"]) == 0
    kit_key = json.loads(capsys.readouterr().out)
    with bound_socket() as free:
        port = free.getsockname()[1]
    kit = {
        "office_code": "990000",
        "name": "一致性测试机构",
        "url": f"http://127.0.0.1:{port}",
        "keys": [kit_key],
    }
    resend = tmp_path / "resend.py"
    resend.write_text(
        _RESEND.format(gateway=tianjin.config.gateway_url, headers=tianjin.staff), encoding="utf-8"
    )
    peers_file = tianjin.config.peers_file
    before = peers_file.read_text(encoding="utf-8") if peers_file.exists() else None
    write_peers(peers_file, [*(json.loads(before)["peers"] if before else []), kit])
    try:
        status = conformance(["--target", tianjin.config.gateway_url, "--target-office", "120000",
                              "--as-office", "990000", "--key", str(key), "--listen", f"127.0.0.1:{port}",
                              "--quiet-s", "4", "--wait-s", "90", "--resend-command", f"{sys.executable} {resend} {{ref}}"])  # fmt: skip
        printed = capsys.readouterr().out
    finally:
        if before is None:
            peers_file.unlink()
        else:
            peers_file.write_text(before, encoding="utf-8")
    print(printed)  # the report, shown with pytest -rP
    assert status == 0, printed
    assert "20/20 cases passed" in printed, printed
    assert "PASS  flaky office" in printed and "PASS  down office" in printed


# Our staff re-send a flagged transfer: the case found by its ref on the city office's worklist.
_RESEND = """
import sys, httpx
headers = {headers!r}
with httpx.Client(base_url={gateway!r}, timeout=30) as client:
    items = client.get("/api/v1/transfer/transfers/worklist", headers=headers).json()["items"]
    flagged = [client.get(f"/api/v1/transfer/transfers/{{c['id']}}", headers=headers).json()
               for c in items if c["delivery_failure"]]
    [case] = [c for c in flagged if c["transfer_ref"] == sys.argv[1]]
    answer = client.post(f"/api/v1/transfer/transfers/{{case['id']}}/resend",
                         json={{"version": case["version"], "note": "对端已恢复"}}, headers=headers)
    assert answer.status_code == 200, answer.text
"""


def test_other_offices_sharing_an_address_are_not_held_to_the_gateways_per_address_limit(tianjin) -> None:  # type: ignore[no-untyped-def]
    """Past the anonymous per-address burst (100) every message still reaches the transfer service,
    which answers each on its merits (here: not a message); the gateway's ceiling is far higher."""
    answers = [
        tianjin.client.post("/interop/v1/messages", content=b"junk", headers={"Content-Type": MEDIA_TYPE})
        for _ in range(130)
    ]
    assert {a.status_code for a in answers} == {400}, sorted({a.status_code for a in answers})
    assert {a.json()["code"] for a in answers} == {"malformed_message"}


def test_a_flood_of_unsigned_junk_from_one_address_meets_the_gateways_ceiling(tangshan) -> None:  # type: ignore[no-untyped-def]
    """The ceiling that replaces the per-address limit on /interop/v1 (Tangshan's is lowered to 400 for
    this test; the default is 2,000 at 500 a second): past it, 429 with Retry-After. Runs last in the
    module: the address's bucket is spent afterwards."""
    codes = []
    for _ in range(700):
        answer = tangshan.client.post(
            "/interop/v1/messages", content=b"junk", headers={"Content-Type": MEDIA_TYPE}
        )
        codes.append(answer.status_code)
        if answer.status_code == 429:
            break
    assert codes[-1] == 429, f"no 429 in {len(codes)} requests"
    assert len(codes) > 150 and set(codes[:-1]) == {400}, (len(codes), sorted(set(codes)))
    assert answer.json()["code"] == "rate_limited" and answer.headers["retry-after"].isdigit()
