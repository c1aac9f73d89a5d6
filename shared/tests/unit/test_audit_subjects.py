"""What the access audit records of a request: writable values whatever was sent, and the persons
whose data it touched from the path, the query, the body and the answer."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.http.audit import PersonFinder, writable
from shared.http.middleware import _operation
from shared.identity import IdType, person_id_for

KEY = b"a-test-person-key-of-some-length"
ID_NUMBER = "120101199003071235"
PERSON = person_id_for(IdType.resident_id, ID_NUMBER, KEY)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("/a/\x00", "/a/\\x00"),
        ("/a/\x1b[31m\r\n", "/a/\\x1b[31m\\x0d\\x0a"),
        ("/a/\udcff", "/a/\\udcff"),
        ("/参保/登记", "/参保/登记"),
        ("x" * 600, "x" * 500),
    ],
)
def test_every_value_is_made_writable(sent: str, kept: str) -> None:
    assert writable(sent, 500) == kept


def test_a_person_in_the_path_and_the_query_is_named() -> None:
    finder = PersonFinder(KEY)
    other = uuid.uuid4()
    found = finder.in_request("/persons/{id}/benefit-years/{year}", {"id": str(PERSON), "year": "2026"},
                              f"person_id={other}&page=1".encode(), b"")  # fmt: skip
    assert found == [PERSON, other]


def test_an_id_number_in_the_body_is_named_by_its_person_id_not_kept() -> None:
    finder = PersonFinder(KEY)
    body = json.dumps({"person": {"id_type": "resident_id", "id_number": ID_NUMBER, "name": "张三"}}).encode()
    assert finder.in_request("/enrollments/residents", {}, b"", body) == [PERSON]
    assert finder.in_request(
        "/enrollments/search", {}, b"", json.dumps({"id_number": ID_NUMBER}).encode()
    ) == [PERSON]


def test_an_invalid_id_number_or_a_body_that_is_not_json_names_nobody() -> None:
    finder = PersonFinder(KEY)
    assert finder.in_request("/x", {}, b"", json.dumps({"id_number": "123"}).encode()) == []
    assert finder.in_request("/x", {}, b"", b"id_number=120101199003071235") == []
    assert finder.in_request("/x", {"id": "not-a-uuid"}, b"person_id=nope", b"{") == []


def test_the_persons_in_a_list_answer_are_named() -> None:
    people = [uuid.uuid4() for _ in range(3)]
    answer = json.dumps({"items": [{"id": 1, "person_id": str(p)} for p in people], "total": 3}).encode()
    assert PersonFinder(KEY).in_answer(answer) == people


@pytest.mark.parametrize(
    ("path", "route", "operation"),
    [
        ("/api/v1/registration/enrollments/search", "/enrollments/search", "POST /api/v1/registration/enrollments/search"),
        ("/api/v1/claims/persons/1/benefit-years/2026", "/persons/{id}/benefit-years/{year}",
         "POST /api/v1/claims/persons/{id}/benefit-years/{year}"),
        ("/api/v1/registration/admin/business-date", "/api/v1/registration/admin/business-date",
         "POST /api/v1/registration/admin/business-date"),
    ],
)  # fmt: skip
def test_the_operation_is_the_full_route(path: str, route: str, operation: str) -> None:
    assert _operation("POST", path, route) == operation
