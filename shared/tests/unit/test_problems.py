"""Errors answer as problem+json with a machine code and a Chinese title; never a bare 500 page."""

from __future__ import annotations

from datetime import date
from typing import Literal

import asyncpg
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError

from shared.errors import Problem
from shared.http.middleware import RequestContextMiddleware
from shared.http.problems import install_problem_handlers
from shared.testing.e2e import assert_problem


class DataErrorLike(Exception):
    def __init__(self, pgcode: str):
        super().__init__(pgcode)
        self.pgcode = pgcode


class Body(BaseModel):
    year: int = Field(ge=2000)


class Claim(BaseModel):
    name: str = Field(min_length=2, max_length=5)
    amount: int = Field(ge=0, le=100)
    kind: Literal["outpatient", "inpatient"]
    on: date


def make_client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service="test")

    @app.post("/things")
    async def create(body: Body) -> dict:
        return {"year": body.year}

    @app.get("/conflict")
    async def conflict() -> dict:
        raise Problem(409, "duplicate_enrollment", "不允许重复参保", "已有参保登记", existing={"id": "x"})

    @app.get("/bad-bytes")
    async def bad_bytes() -> dict:
        raise DBAPIError("INSERT …", {}, DataErrorLike("22021"))

    @app.get("/db-down")
    async def db_down() -> dict:
        raise DBAPIError("SELECT 1", {}, DataErrorLike("08006"))

    @app.get("/bad-bytes-sent-straight")  # a statement sent to asyncpg itself (shared.db.Prepared)
    async def bad_bytes_sent_straight() -> dict:
        raise asyncpg.CharacterNotInRepertoireError("invalid byte sequence")

    @app.get("/db-down-sent-straight")
    async def db_down_sent_straight() -> dict:
        raise asyncpg.AdminShutdownError("terminating connection")

    @app.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("bug")

    return TestClient(app, raise_server_exceptions=False)


def test_malformed_json_is_400() -> None:
    response = make_client().post(
        "/things", content=b"{year: 20", headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")


def test_validation_names_the_field() -> None:
    body = assert_problem(make_client().post("/things", json={"year": "abc"}), 422, "validation_failed")
    assert body["errors"][0]["field"] == "body.year"


def test_a_problem_keeps_its_code_and_extras() -> None:
    body = assert_problem(make_client().get("/conflict"), 409, "duplicate_enrollment")
    assert body["detail"] == "已有参保登记" and body["existing"] == {"id": "x"}


def test_unknown_routes_and_methods_are_problems() -> None:
    client = make_client()
    assert_problem(client.get("/nowhere"), 404, "not_found")
    assert_problem(client.delete("/things"), 405, "method_not_allowed")


def test_an_unexpected_error_is_a_500_problem_without_internals() -> None:
    body = assert_problem(make_client().get("/boom"), 500, "internal_error")
    assert "bug" not in str(body)


def test_request_and_correlation_ids_go_in_and_out() -> None:
    client = make_client()
    response = client.get("/conflict", headers={"X-Correlation-ID": "corr-123"})
    assert response.headers["x-correlation-id"] == "corr-123"
    assert len(response.headers["x-request-id"]) == 32


def test_a_database_data_exception_is_bad_input_but_other_database_errors_are_not() -> None:
    client = make_client()
    assert_problem(client.get("/bad-bytes"), 422, "invalid_data")
    assert_problem(client.get("/db-down"), 500, "internal_error")
    assert_problem(client.get("/bad-bytes-sent-straight"), 422, "invalid_data")
    assert_problem(client.get("/db-down-sent-straight"), 500, "internal_error")


def test_a_domain_error_answers_with_the_status_of_its_kind_its_code_and_its_items() -> None:
    from shared.errors import Conflict, Forbidden, Invalid, NotFound

    app = FastAPI()
    install_problem_handlers(app)
    raised = {
        "invalid": Invalid(
            "materials_missing",
            "申请材料不齐全",
            "缺少：营业执照",
            errors=[{"field": "materials", "message": "营业执照"}],
        ),
        "conflict": Conflict("invalid_transition", "当前状态不允许此操作", status_now="received"),
        "missing": NotFound("定点申请"),
        "forbidden": Forbidden("forbidden", "无权执行此操作"),
    }

    @app.get("/{kind}")
    async def fail(kind: str) -> dict:
        raise raised[kind]

    client = TestClient(app, raise_server_exceptions=False)
    answers = {kind: client.get(f"/{kind}") for kind in raised}
    assert {kind: a.status_code for kind, a in answers.items()} == {
        "invalid": 422,
        "conflict": 409,
        "missing": 404,
        "forbidden": 403,
    }
    assert all(a.headers["content-type"] == "application/problem+json" for a in answers.values())
    assert answers["invalid"].json()["errors"] == [{"field": "materials", "message": "营业执照"}]
    assert answers["conflict"].json()["status_now"] == "received"
    assert answers["missing"].json()["title"] == "定点申请不存在"


def test_field_errors_speak_chinese_with_the_limits_of_the_rule() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/claims")
    async def create(body: Claim) -> dict:
        return {}

    client = TestClient(app)
    bad = {"name": "x" * 9, "amount": 101, "kind": "dental", "on": "2026-13-40"}
    problem = assert_problem(client.post("/claims", json=bad), 422, "validation_failed")
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert messages == {
        "body.name": "最多 5 个字符",
        "body.amount": "不得大于 100",
        "body.kind": "须为以下之一：outpatient、inpatient",
        "body.on": "须为日期（YYYY-MM-DD）",
    }
    missing = assert_problem(client.post("/claims", json={}), 422, "validation_failed")
    assert {e["message"] for e in missing["errors"]} == {"必填"}
