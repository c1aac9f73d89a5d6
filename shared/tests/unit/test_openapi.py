"""A service's OpenAPI documents its problem+json errors and names operations briefly (shared.http.openapi)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.security import HTTPBearer
from pydantic import BaseModel

from shared.http.openapi import document_problems

signed_in = Depends(HTTPBearer())


class Step(BaseModel):
    version: int


def make_app() -> FastAPI:
    claims, payments = APIRouter(prefix="/claims"), APIRouter(prefix="/payments")

    @claims.post("/{claim_id}/accept", dependencies=[signed_in])
    async def accept(claim_id: str, body: Step) -> dict:
        return {}

    @payments.post("/{payment_id}/accept", dependencies=[signed_in])
    async def accept_payment(payment_id: str, body: Step) -> dict:
        return {}

    @payments.get("/public")
    async def listed() -> list[str]:
        return []

    app = FastAPI()
    document_problems(app, "demo")
    for router in (claims, payments):
        app.include_router(router, prefix="/api/v1/demo")
    return app


def test_every_operation_documents_its_errors_as_problem_json() -> None:
    document = make_app().openapi()
    accept = document["paths"]["/api/v1/demo/claims/{claim_id}/accept"]["post"]["responses"]
    assert {"401", "403", "404", "409", "422", "default"} <= set(accept)
    assert set(accept["422"]["content"]) == {"application/problem+json"}
    assert accept["422"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    public = document["paths"]["/api/v1/demo/payments/public"]["get"]["responses"]
    assert "401" not in public and "403" not in public, "an operation without sign-in cannot answer 401"
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and {"Problem", "FieldError"} <= set(schemas)


def test_operation_ids_are_short_unique_and_name_the_service_and_resource() -> None:
    document = make_app().openapi()
    ids = [operation["operationId"] for path in document["paths"].values() for operation in path.values()]
    assert sorted(ids) == ["demo_claims_accept", "demo_payments_accept_payment", "demo_payments_listed"]
