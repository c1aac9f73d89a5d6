"""Conformance kit of the inter-office protocol (docs/interop.md): plays another office against any
deployment's URL and prints a pass/fail report.

    python -m svc_transfer.conformance --target https://ybjb.example --target-office 120000 \
        --as-office 990000 --key kit.pem [--keys-file their-jwks.json]

Before a run the target's operator adds the kit as a peer (office code `--as-office`, the public key
the kit prints with `--print-key`) to its peers file. The kit only sends what a peer may send and
names no real person: messages about transfers it invents, which a conforming office refuses or
answers with `unknown`. Cases: the published keys; a status query answered with a signed ack whose
claims are right; a repeat acknowledged as a duplicate; unknown fields ignored; forged, altered,
stale, future, wrongly addressed, unknown-sender, other-algorithm, non-integer `iat`, garbage,
oversized, unknown-kind and ack-as-request messages refused with the documented status and code; a
table that breaks the months rule and one for an unknown transfer refused. Exit status 0 when every
case passes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from svc_transfer.interop.protocol import ALGORITHM, MEDIA_TYPE, Message, MessageType, Signer, verify

MAX_BYTES = 262_144


@dataclass
class Case:
    name: str
    passed: bool
    detail: str


@dataclass
class Kit:
    target: str  # the target's base URL
    target_office: str
    signer: Signer  # the office the kit plays, as configured at the target
    client: httpx.Client
    target_keys: list[dict] | None = None  # None: taken from the target's /interop/v1/keys

    # ------------------------------------------------------------------ sending

    def message(self, type_: MessageType, body: dict, **claims: Any) -> Message:
        return Message(
            uuid.uuid4(), type_, self.signer.office_code, self.target_office, uuid.uuid4(), body, **claims
        )

    def post(self, token: str | bytes) -> httpx.Response:
        return self.client.post(
            f"{self.target}/interop/v1/messages", content=token, headers={"Content-Type": MEDIA_TYPE}
        )

    def signed(self, message: Message, now: float | None = None) -> str:
        return self.signer.sign(message, now)

    def raw(self, claims: dict, key: Any = None, algorithm: str = ALGORITHM) -> str:
        """A token with claims as given (for what a careless or hostile peer would send)."""
        return jwt.encode(
            claims, key or self.signer._key, algorithm=algorithm, headers={"kid": self.signer.kid, "typ": "yb-interop+jwt"}
        )  # fmt: skip

    # ------------------------------------------------------------------ checking

    def keys(self) -> list[jwt.PyJWK]:
        return [jwt.PyJWK(k, algorithm=ALGORITHM) for k in (self.target_keys or [])]

    def verified_ack(self, response: httpx.Response, sent: Message) -> Message:
        assert response.status_code == 200, f"{response.status_code} {response.text[:200]}"
        assert response.headers.get("content-type", "").startswith(MEDIA_TYPE), response.headers.get(
            "content-type"
        )
        kid = jwt.get_unverified_header(response.text).get("kid")
        keys = [k for k in self.keys() if k.key_id in (kid, None)] or self.keys()
        for key in keys:
            try:
                ack = verify(response.text, key, self.signer.office_code, max_age_s=300)
            except Exception:
                continue
            assert ack.type is MessageType.ack, f"typ {ack.type}"
            assert ack.sender == self.target_office, f"iss {ack.sender}"
            assert ack.transfer_ref == sent.transfer_ref, "ref differs from the message's"
            assert ack.body.get("ack") == str(sent.id), "body.ack is not the message id"
            return ack
        raise AssertionError("the ack does not verify with any key the target publishes")

    def refused(self, response: httpx.Response, status: int, code: str) -> str:
        got = (
            response.json().get("code")
            if response.headers.get("content-type", "").startswith("application/")
            else None
        )
        assert response.status_code == status and got == code, (
            f"expected {status} {code}, got {response.status_code} {got}"
        )
        assert response.headers["content-type"].startswith("application/problem+json"), response.headers[
            "content-type"
        ]
        return f"{status} {code}"


def cases(kit: Kit) -> list[tuple[str, Callable[[], str]]]:
    """Each case: a name and a check that returns a short note or raises AssertionError."""

    def published_keys() -> str:
        answer = kit.client.get(f"{kit.target}/interop/v1/keys")
        assert answer.status_code == 200, answer.status_code
        document = answer.json()
        assert document.get("office_code") == kit.target_office, document.get("office_code")
        assert document["keys"] and all(
            k.get("kty") == "EC" and k.get("crv") == "P-256" and k.get("kid") for k in document["keys"]
        )
        if kit.target_keys is None:
            kit.target_keys = document["keys"]
        return f"{len(document['keys'])} key(s)"

    def status_query_acknowledged() -> str:
        sent = kit.message(MessageType.status_query, {})
        ack = kit.verified_ack(kit.post(kit.signed(sent)), sent)
        assert ack.body.get("status") == "unknown", ack.body
        return "signed ack, status unknown"

    def repeat_is_a_duplicate() -> str:
        sent = kit.message(MessageType.status_query, {})
        kit.verified_ack(kit.post(kit.signed(sent)), sent)
        again = kit.verified_ack(kit.post(kit.signed(sent)), sent)
        assert again.body.get("duplicate") is True, again.body
        return "duplicate: true"

    def unknown_fields_ignored() -> str:
        sent = kit.message(MessageType.status_query, {"extension": {"v": 2}})
        token = kit.raw({**sent.claims(time.time()), "x-trace": "conformance"})
        kit.verified_ack(kit.post(token), sent)
        return "acknowledged"

    def forged() -> str:
        impostor = ec.generate_private_key(ec.SECP256R1())
        return kit.refused(
            kit.post(kit.raw(kit.message(MessageType.status_query, {}).claims(time.time()), impostor)),
            401,
            "invalid_signature",
        )

    def altered() -> str:
        header, _, signature = kit.signed(kit.message(MessageType.status_query, {})).split(".")
        _, payload, _ = kit.signed(kit.message(MessageType.status_query, {"x": 1})).split(".")
        return kit.refused(kit.post(f"{header}.{payload}.{signature}"), 401, "invalid_signature")

    def stale() -> str:
        return kit.refused(
            kit.post(kit.signed(kit.message(MessageType.status_query, {}), now=time.time() - 3600)),
            401,
            "stale_message",
        )

    def from_the_future() -> str:
        return kit.refused(
            kit.post(kit.signed(kit.message(MessageType.status_query, {}), now=time.time() + 3600)),
            401,
            "stale_message",
        )

    def wrong_receiver() -> str:
        sent = Message(
            uuid.uuid4(), MessageType.status_query, kit.signer.office_code, "000001", uuid.uuid4(), {}
        )
        return kit.refused(kit.post(kit.signed(sent)), 403, "wrong_receiver")

    def unknown_sender() -> str:
        stranger = Signer(
            f"{(int(kit.signer.office_code) + 1) % 1_000_000:06d}", ec.generate_private_key(ec.SECP256R1())
        )
        sent = Message(
            uuid.uuid4(), MessageType.status_query, stranger.office_code, kit.target_office, uuid.uuid4(), {}
        )
        return kit.refused(kit.post(stranger.sign(sent)), 403, "unknown_sender")

    def other_algorithm() -> str:
        claims = kit.message(MessageType.status_query, {}).claims(time.time())
        return kit.refused(
            kit.post(kit.raw(claims, key="a-shared-secret-of-32-bytes-long!", algorithm="HS256")),
            401,
            "invalid_signature",
        )

    def iat_not_an_integer() -> str:
        claims = {**kit.message(MessageType.status_query, {}).claims(time.time()), "iat": time.time() + 0.5}
        return kit.refused(kit.post(kit.raw(claims)), 400, "malformed_message")

    def garbage() -> str:
        return kit.refused(kit.post("this is not a message"), 400, "malformed_message")

    def oversized() -> str:
        sent = kit.message(MessageType.status_query, {"padding": "x" * (MAX_BYTES + 1)})
        answer = kit.post(kit.signed(sent))
        assert answer.status_code == 413, answer.status_code
        return "413"

    def unknown_kind() -> str:
        claims = {**kit.message(MessageType.status_query, {}).claims(time.time()), "typ": "appointment"}
        return kit.refused(kit.post(kit.raw(claims)), 422, "unsupported_message")

    def ack_as_a_request() -> str:
        return kit.refused(
            kit.post(kit.signed(kit.message(MessageType.ack, {"ack": str(uuid.uuid4())}))),
            422,
            "unsupported_message",
        )

    def months_beyond_the_period() -> str:
        body = _table(
            {"contribution_months": 99, "history": [{"start": "2025-01", "end": "2025-12", "months": 99}]}
        )
        return kit.refused(
            kit.post(kit.signed(kit.message(MessageType.information_table, body))),
            422,
            "invalid_message_body",
        )

    def table_for_an_unknown_transfer() -> str:
        answer = kit.post(
            kit.signed(
                kit.message(
                    MessageType.fund_transfer,
                    {"amount": "1.00", "reference": "KIT-1", "transferred_on": "2026-01-05"},
                )
            )
        )
        return kit.refused(answer, 422, "unknown_transfer")

    return [
        ("published keys", published_keys),
        ("status query answered with a signed ack", status_query_acknowledged),
        ("a repeated message is a duplicate", repeat_is_a_duplicate),
        ("unknown fields are ignored", unknown_fields_ignored),
        ("forged signature refused", forged),
        ("altered payload refused", altered),
        ("stale message refused", stale),
        ("message from the future refused", from_the_future),
        ("message for another office refused", wrong_receiver),
        ("unknown sender refused", unknown_sender),
        ("other algorithm refused", other_algorithm),
        ("non-integer iat refused", iat_not_an_integer),
        ("garbage refused", garbage),
        ("oversized message refused", oversized),
        ("unknown message kind refused", unknown_kind),
        ("ack sent as a request refused", ack_as_a_request),
        ("table with months beyond its period refused", months_beyond_the_period),
        ("funds for an unknown transfer refused", table_for_an_unknown_transfer),
    ]


def _table(overrides: dict) -> dict:
    return {
        "certificate_number": "KIT0000000001",
        "person": {"id_type": "passport", "id_number": "KIT00001", "name": "一致性测试"},
        "contribution_months": 12,
        "history": [{"start": "2025-01", "end": "2025-12", "months": 12}],
        "account_balance": "0.00",
        "coverage_ended_on": "2025-12-31",
        **overrides,
    }


def run(kit: Kit) -> list[Case]:
    results = []
    for name, check in cases(kit):
        try:
            results.append(Case(name, True, check()))
        except (AssertionError, httpx.HTTPError, ValueError, KeyError) as exc:
            results.append(Case(name, False, f"{type(exc).__name__}: {exc}"[:300]))
    return results


def report(results: list[Case]) -> str:
    lines = [f"{'PASS' if r.passed else 'FAIL'}  {r.name}  ({r.detail})" for r in results]
    passed = sum(r.passed for r in results)
    return "\n".join([*lines, f"{passed}/{len(results)} cases passed"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Inter-office protocol conformance kit (docs/interop.md)")
    parser.add_argument("--target", help="the deployment's base URL (its gateway)")
    parser.add_argument("--target-office", help="the target's office code (aud)")
    parser.add_argument(
        "--as-office", required=True, help="the office code the kit plays (configured at the target)"
    )
    parser.add_argument(
        "--key", required=True, type=Path, help="the kit's signing key (PEM; created if missing)"
    )
    parser.add_argument(
        "--keys-file", type=Path, help="the target's JWKS as configured out of band (else fetched)"
    )
    parser.add_argument(
        "--print-key", action="store_true", help="print the kit's public key for the target's peers file"
    )
    args = parser.parse_args(argv)
    signer = Signer.load_or_create(args.as_office, args.key)
    if args.print_key:
        print(json.dumps(signer.public_jwk(), ensure_ascii=False))
        return 0
    if not args.target or not args.target_office:
        parser.error("--target and --target-office are needed for a run")
    keys = json.loads(args.keys_file.read_text(encoding="utf-8"))["keys"] if args.keys_file else None
    with httpx.Client(timeout=15) as client:
        results = run(Kit(args.target.rstrip("/"), args.target_office, signer, client, keys))
    print(report(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
