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
table that breaks the months rule and one for an unknown transfer refused.

With `--listen` the kit also plays the receiving side: a simulated peer office (an HTTP server the
target delivers to, registered in its peers file with that URL) answers the target's messages as a
flaky office would (503, a hang past the target's timeout, 503 again, then a signed ack) and as a
down one (refused for good, then back). The target must deliver the flaky office's message once,
with back-off and the same message id, and must stop after the refusal and deliver again once its
staff re-send (`--resend-command`, or by hand while the kit waits). Exit status 0 when every case
passes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
    peer: SimulatedPeer | None = None  # the receiving side, when the kit listens
    resend: Callable[[uuid.UUID], None] | None = None  # has the target's staff re-send a transfer's message
    quiet_s: float = 10.0  # how long "no further attempt" is watched for
    wait_s: float = 180.0  # how long a delivery the target owes is waited for

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

    def verification_keys(self) -> list[jwt.PyJWK]:
        return [jwt.PyJWK(k, algorithm=ALGORITHM) for k in (self.target_keys or [])]

    def verified_ack(self, response: httpx.Response, sent: Message) -> Message:
        assert response.status_code == 200, f"{response.status_code} {response.text[:200]}"
        assert response.headers.get("content-type", "").startswith(MEDIA_TYPE), response.headers.get(
            "content-type"
        )
        kid = jwt.get_unverified_header(response.text).get("kid")
        keys = [k for k in self.verification_keys() if k.key_id in (kid, None)] or self.verification_keys()
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


# --------------------------------------------------------------------------- receiving side

# How the simulated office answers one delivery attempt.
UNAVAILABLE_FOR_2_S = "503 with Retry-After: 2"
UNAVAILABLE = "503"
HANG = "no answer (past the target's timeout)"
REFUSE = "401 invalid_signature (refused for good)"
ACCEPT = "200 signed ack"


@dataclass
class Attempt:
    at: float
    message_id: str
    ref: str
    type: str
    iat: int
    answer: str


@dataclass
class SimulatedPeer:
    """The office the kit plays, receiving: each transfer (`ref`) has a plan of answers, one per
    attempt, the last repeated; every attempt is recorded."""

    kit: Kit
    hang_s: float = 15.0
    plans: dict[str, list[str]] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, ref: uuid.UUID, *answers: str) -> None:
        with self._lock:
            self.plans[str(ref)] = list(answers)

    def of(self, ref: uuid.UUID) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if a.ref == str(ref)]

    def answer(self, token: str) -> tuple[int, dict[str, str], bytes, float]:
        """(status, headers, body, seconds to hold the answer back) for one delivery."""
        try:
            message = self._verified(token)
        except AssertionError as exc:
            return (*_problem(401, "invalid_signature", "报文签名无效", str(exc)), 0.0)
        with self._lock:
            plan = self.plans.get(str(message.transfer_ref)) or [ACCEPT]
            answer = plan.pop(0) if len(plan) > 1 else plan[0]
            self.attempts.append(
                Attempt(time.monotonic(), str(message.id), str(message.transfer_ref), message.type.value,
                        int(jwt.decode(token, options={"verify_signature": False}).get("iat") or 0), answer)
            )  # fmt: skip
        if answer == ACCEPT:
            ack = Message(
                uuid.uuid4(), MessageType.ack, self.kit.signer.office_code, message.sender,
                message.transfer_ref, {"ack": str(message.id), "status": "rejected_by_peer"},
            )  # fmt: skip
            return 200, {"Content-Type": MEDIA_TYPE}, self.kit.signer.sign(ack).encode(), 0.0
        if answer == REFUSE:
            return (*_problem(401, "invalid_signature", "报文签名无效", "一致性测试：模拟对端拒收"), 0.0)
        unavailable = _problem(503, "unavailable", "暂时无法处理", "一致性测试：模拟对端故障")
        if answer == UNAVAILABLE_FOR_2_S:
            return unavailable[0], {**unavailable[1], "Retry-After": "2"}, unavailable[2], 0.0
        return (*unavailable, self.hang_s if answer == HANG else 0.0)

    def _verified(self, token: str) -> Message:
        kid = jwt.get_unverified_header(token).get("kid")
        for key in [
            k for k in self.kit.verification_keys() if k.key_id in (kid, None)
        ] or self.kit.verification_keys():
            try:
                message = verify(token, key, self.kit.signer.office_code, max_age_s=300)
            except Exception:
                continue
            assert message.sender == self.kit.target_office, f"iss {message.sender}"
            return message
        raise AssertionError("the message does not verify with any key the target publishes")


def _problem(status: int, code: str, title: str, detail: str) -> tuple[int, dict[str, str], bytes]:
    body = {"type": "about:blank", "status": status, "code": code, "title": title, "detail": detail}
    return status, {"Content-Type": "application/problem+json"}, json.dumps(body, ensure_ascii=False).encode()


@contextmanager
def listening(peer: SimulatedPeer, host: str, port: int) -> Iterator[ThreadingHTTPServer]:
    """The simulated office's HTTP server: `POST {base}/interop/v1/messages`, in a background thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            token = self.rfile.read(min(length, MAX_BYTES + 1)).decode("utf-8", "replace")
            if not self.path.rstrip("/").endswith("/interop/v1/messages"):
                status, headers, body, hold = *_problem(404, "not_found", "资源不存在", self.path), 0.0
            else:
                status, headers, body, hold = peer.answer(token)
            time.sleep(hold)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the target gave up waiting (its timeout): what a hanging office looks like

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _wait(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        assert time.monotonic() < deadline, f"no {what} within {timeout_s:.0f} s"
        time.sleep(0.2)
    return result


def receiving_cases(kit: Kit) -> list[tuple[str, Callable[[], str]]]:
    """The target as a sender: the kit's letter about an invented certificate makes the target
    answer with a `rejection`, which it delivers to the simulated office."""
    peer = kit.peer
    assert peer is not None

    def provoke_a_rejection(*answers: str) -> uuid.UUID:
        sent = kit.message(MessageType.letter, _letter())
        peer.plan(sent.transfer_ref, *answers)
        kit.verified_ack(kit.post(kit.signed(sent)), sent)
        return sent.transfer_ref

    def flaky_office() -> str:
        ref = provoke_a_rejection(UNAVAILABLE_FOR_2_S, UNAVAILABLE, HANG, UNAVAILABLE, ACCEPT)
        _wait(
            lambda: any(a.answer == ACCEPT for a in peer.of(ref)), kit.wait_s, "delivery to the flaky office"
        )
        time.sleep(kit.quiet_s)
        attempts = peer.of(ref)
        answers = [a.answer for a in attempts]
        assert answers == [UNAVAILABLE_FOR_2_S, UNAVAILABLE, HANG, UNAVAILABLE, ACCEPT], answers
        assert attempts[0].type == MessageType.rejection.value, attempts[0].type
        assert len({a.message_id for a in attempts}) == 1, "the message id changed between attempts"
        assert all(b.iat >= a.iat for a, b in itertools.pairwise(attempts)), "iat went back"
        gaps = [round(b.at - a.at, 1) for a, b in itertools.pairwise(attempts)]
        assert gaps[0] >= 1.9, f"came back {gaps[0]} s after Retry-After: 2"
        assert min(gaps) >= 0.2, f"retried without waiting: gaps {gaps}"
        assert gaps[3] >= 0.8 * gaps[1], (
            f"no back-off: after the 4th attempt {gaps[3]} s, after the 2nd {gaps[1]} s"
        )
        return f"delivered once after {len(attempts) - 1} failures, one message id, gaps {gaps} s"

    def down_office() -> str:
        ref = provoke_a_rejection(REFUSE)
        _wait(lambda: peer.of(ref), kit.wait_s, "delivery to the down office")
        time.sleep(kit.quiet_s)
        refused = peer.of(ref)
        assert len(refused) == 1, (
            f"{len(refused)} attempts after a refusal for good: {[a.answer for a in refused]}"
        )
        peer.plan(ref, ACCEPT)  # the office is back
        if kit.resend is None:
            print(
                f"  re-send the transfer with ref {ref} at the target now (waiting {kit.wait_s:.0f} s)",
                flush=True,
            )
        else:
            kit.resend(ref)
        delivered = _wait(
            lambda: [a for a in peer.of(ref) if a.answer == ACCEPT], kit.wait_s, "re-sent delivery"
        )
        time.sleep(kit.quiet_s)
        assert len(peer.of(ref)) == 2, (
            f"{len(peer.of(ref))} attempts in all, expected the refused one and one more"
        )
        assert delivered[0].message_id == refused[0].message_id, "the re-sent message has another id"
        return "refused once, not retried; re-sent by staff and delivered once with the same message id"

    return [
        ("flaky office: 503 twice, a hang, 503, then an ack: delivered once with back-off", flaky_office),
        ("down office: refused for good, not retried, delivered after a re-send", down_office),
    ]


def _letter() -> dict:
    return {
        "person": {"id_type": "passport", "id_number": "KIT00002", "name": "一致性测试"},
        "certificate_number": f"KIT{uuid.uuid4().int % 10**12:012d}",
        "receiving_office": "990001",
        "letter_date": time.strftime("%Y-%m-%d"),
    }


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
        *(receiving_cases(kit) if kit.peer is not None else []),
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


def report(results: list[Case], receiving: bool = True) -> str:
    lines = [f"{'PASS' if r.passed else 'FAIL'}  {r.name}  ({r.detail})" for r in results]
    if not receiving:
        lines.append("(receiving side not run: give --listen to play an office the target delivers to)")
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
    receiving = parser.add_argument_group("receiving side (the target delivering to a simulated office)")
    receiving.add_argument(
        "--listen", metavar="HOST:PORT", help="run the simulated office here; the target's peers file gives "
        "the kit's office this address as its url (e.g. http://kit-host:PORT)",
    )  # fmt: skip
    receiving.add_argument(
        "--hang-s", type=float, default=15.0, help="how long the simulated office holds an answer back "
        "(longer than the target's delivery timeout; default 15)",
    )  # fmt: skip
    receiving.add_argument(
        "--quiet-s", type=float, default=10.0, help="how long no further attempt is awaited (default 10)"
    )
    receiving.add_argument(
        "--wait-s", type=float, default=180.0, help="how long an owed delivery is awaited (default 180)"
    )
    receiving.add_argument(
        "--resend-command", help="shell command making the target's staff re-send a transfer's message, "
        "{ref} replaced by its ref (without it the kit asks for the re-send by hand and waits)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    signer = Signer.load_or_create(args.as_office, args.key)
    if args.print_key:
        print(json.dumps(signer.public_jwk(), ensure_ascii=False))
        return 0
    if not args.target or not args.target_office:
        parser.error("--target and --target-office are needed for a run")
    keys = json.loads(args.keys_file.read_text(encoding="utf-8"))["keys"] if args.keys_file else None
    with httpx.Client(timeout=15) as client:
        kit = Kit(args.target.rstrip("/"), args.target_office, signer, client, keys, quiet_s=args.quiet_s,
                  wait_s=args.wait_s)  # fmt: skip
        if args.resend_command:
            kit.resend = _command(args.resend_command)
        if args.listen:
            host, _, port = args.listen.rpartition(":")
            kit.peer = SimulatedPeer(kit, hang_s=args.hang_s)
            with listening(kit.peer, host or "0.0.0.0", int(port)):
                results = run(kit)
        else:
            results = run(kit)
    print(report(results, receiving=kit.peer is not None))
    return 0 if all(r.passed for r in results) else 1


def _command(template: str) -> Callable[[uuid.UUID], None]:
    def resend(ref: uuid.UUID) -> None:
        done = subprocess.run(template.replace("{ref}", shlex.quote(str(ref))), shell=True, check=False)
        assert done.returncode == 0, f"the re-send command ended with status {done.returncode}"

    return resend


if __name__ == "__main__":
    sys.exit(main())
