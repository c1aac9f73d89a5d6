"""A service reads no more of a request body than its limit: 413 as a problem, whatever the route."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from shared.http.middleware import RequestContextMiddleware
from shared.http.problems import install_problem_handlers


def app_with_limit(limit: int) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/api/v1/x/echo")
    async def echo(request: Request) -> dict:
        return {"size": len(await request.body())}

    app.add_middleware(RequestContextMiddleware, service="x", max_body_bytes=limit)
    return app


def test_a_body_over_the_limit_is_refused_with_413() -> None:
    with TestClient(app_with_limit(1000)) as client:
        answer = client.post("/api/v1/x/echo", content=b"x" * 5000)
    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"


def test_a_body_within_the_limit_is_read_whole() -> None:
    with TestClient(app_with_limit(1000)) as client:
        assert client.post("/api/v1/x/echo", content=b"x" * 1000).json() == {"size": 1000}
