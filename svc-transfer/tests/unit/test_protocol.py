"""Signed inter-office messages: what verifies, and what is refused."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from shared.errors import Problem
from svc_transfer.interop.protocol import Message, MessageType, Signer, read_unverified, verify


@pytest.fixture
def tangshan(tmp_path) -> Signer:
    return Signer.load_or_create("130200", tmp_path / "ts.pem")


@pytest.fixture
def tianjin(tmp_path) -> Signer:
    return Signer.load_or_create("120000", tmp_path / "tj.pem")


def letter() -> Message:
    return Message(
        uuid.uuid4(), MessageType.letter, "130200", "120000", uuid.uuid4(), {"certificate_number": "1"}
    )


def key_of(signer: Signer) -> jwt.PyJWK:
    return jwt.PyJWK(signer.public_jwk(), algorithm="ES256")


def test_a_signed_message_verifies_with_the_senders_public_key(tangshan):
    sent = letter()
    received = verify(tangshan.sign(sent), key_of(tangshan), "120000", max_age_s=300)
    assert (received.id, received.type, received.sender, received.body) == (
        sent.id,
        sent.type,
        "130200",
        sent.body,
    )


def test_the_key_survives_a_restart(tmp_path, tangshan):
    again = Signer.load_or_create("130200", tmp_path / "ts.pem")
    assert again.public_jwk() == tangshan.public_jwk()


def test_an_altered_body_fails_the_signature(tangshan):
    token = tangshan.sign(letter())
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["body"] = {"certificate_number": "forged"}
    forged_payload = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims).encode()).decode()
    with pytest.raises(Problem) as refused:
        verify(f"{header}.{forged_payload}.{signature}", key_of(tangshan), "120000", max_age_s=300)
    assert refused.value.code == "invalid_signature"


def test_a_message_signed_by_another_key_is_refused(tangshan, tianjin):
    with pytest.raises(Problem) as refused:
        verify(tianjin.sign(letter()), key_of(tangshan), "120000", max_age_s=300)
    assert refused.value.code == "invalid_signature"


def test_a_stale_or_future_message_is_refused(tangshan):
    for signed_at in (time.time() - 301, time.time() + 120):
        with pytest.raises(Problem) as refused:
            verify(tangshan.sign(letter(), now=signed_at), key_of(tangshan), "120000", max_age_s=300)
        assert refused.value.code == "stale_message"


def test_a_message_for_another_office_is_refused(tangshan):
    with pytest.raises(Problem) as refused:
        verify(tangshan.sign(letter()), key_of(tangshan), "110000", max_age_s=300)
    assert refused.value.code == "wrong_receiver"


def test_garbage_is_a_malformed_message():
    with pytest.raises(Problem) as refused:
        read_unverified("not-a-jws")
    assert refused.value.status == 400 and refused.value.code == "malformed_message"


def test_a_body_that_breaks_its_types_contract_is_refused_with_the_fields_named():
    from svc_transfer.interop.protocol import check_body

    broken = Message(
        uuid.uuid4(), MessageType.fund_transfer, "130200", "120000", uuid.uuid4(), {"amount": "-1.005"}
    )
    with pytest.raises(Problem) as refused:
        check_body(broken)
    assert refused.value.status == 422 and refused.value.code == "invalid_message_body"
    assert {e["field"] for e in refused.value.errors} == {"amount", "reference", "transferred_on"}
    ack = Message(uuid.uuid4(), MessageType.ack, "130200", "120000", uuid.uuid4(), {})
    with pytest.raises(Problem) as unsupported:
        check_body(ack)
    assert unsupported.value.code == "unsupported_message"


def test_another_algorithm_is_refused_as_an_invalid_signature(tangshan):
    forged = jwt.encode({"iss": "130200", "typ": "letter"}, "secret", algorithm="HS256")
    with pytest.raises(Problem) as refused:
        read_unverified(forged)
    assert (refused.value.status, refused.value.code) == (401, "invalid_signature")


def test_an_unknown_message_kind_is_refused_as_unsupported(tangshan):
    sent = Message(uuid.uuid4(), MessageType.letter, "130200", "120000", uuid.uuid4(), {})
    token = jwt.encode(
        {**sent.claims(time.time()), "typ": "appointment"}, tangshan._key, algorithm="ES256",
        headers={"kid": tangshan.kid},
    )  # fmt: skip
    with pytest.raises(Problem) as refused:
        verify(token, key_of(tangshan), "120000", max_age_s=300)
    assert (refused.value.status, refused.value.code) == (422, "unsupported_message")


def test_a_rotated_key_is_published_during_the_overlap_and_signs_after_the_switch(tmp_path):
    switch = time.time() + 3600
    rotating = Signer.load_or_create("130200", tmp_path / "old.pem", tmp_path / "new.pem", switch_at=switch)
    old, new = rotating.public_jwks()
    assert old["kid"] != new["kid"]
    before = rotating.sign(letter(), now=switch - 10)
    after = rotating.sign(letter(), now=switch + 10)
    assert read_unverified(before)[1]["kid"] == old["kid"] and read_unverified(after)[1]["kid"] == new["kid"]
    # A peer holding both keys verifies either (by kid); one holding only the old key refuses the new.
    verify(after, jwt.PyJWK(new, algorithm="ES256"), "120000", max_age_s=1e9, now=switch + 10)
    verify(before, jwt.PyJWK(old, algorithm="ES256"), "120000", max_age_s=1e9, now=switch - 10)
    with pytest.raises(Problem):
        verify(after, jwt.PyJWK(old, algorithm="ES256"), "120000", max_age_s=1e9, now=switch + 10)


def test_each_peer_office_has_its_own_allowance_and_is_told_when_to_retry():
    from svc_transfer.interop.limits import PeerRateLimit

    limit = PeerRateLimit(per_s=2, burst=3)
    for _ in range(3):
        limit.take("130200", now=100.0)
    with pytest.raises(Problem) as refused:
        limit.take("130200", now=100.0)
    assert (refused.value.status, refused.value.code, refused.value.headers) == (
        429,
        "rate_limited",
        {"Retry-After": "1"},
    )
    limit.take("110000", now=100.0)  # another office is not slowed by it
    limit.take("130200", now=100.5)  # a token back after 1/2 s


def test_an_iat_that_is_not_an_integer_is_malformed(tangshan):
    sent = letter()
    token = jwt.encode(
        {**sent.claims(time.time()), "iat": time.time()},
        tangshan._key,
        algorithm="ES256",
        headers={"kid": tangshan.kid},
    )
    with pytest.raises(Problem) as refused:
        verify(token, key_of(tangshan), "120000", max_age_s=300)
    assert (refused.value.status, refused.value.code) == (400, "malformed_message")
