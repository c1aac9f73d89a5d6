"""One OpenAPI document from the services' own: paths merged, colliding schema names renamed."""

from __future__ import annotations

import copy
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from gateway.main import create_app
from gateway.openapi import merge
from gateway.settings import GatewaySettings
from shared.testing.asgi import dead_url, serve

BASE = {
    "openapi": "3.1.0",
    "info": {"title": "医保经办平台 API", "version": "0.1.0"},
    "paths": {"/api/v1/calendar/days/{day}": {"get": {"summary": "某日是否为工作日"}}},
    "components": {"schemas": {"DayOut": {"type": "object", "properties": {"date": {"type": "string"}}}}},
}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def response_of(schema: dict) -> dict:
    return {"responses": {"200": {"content": {"application/json": {"schema": schema}}}}}


def resolve(document: dict, node: dict) -> dict:
    assert "$ref" in node, node
    name = node["$ref"].rsplit("/", 1)[1]
    assert name in document["components"]["schemas"], f"dangling {node['$ref']}"
    return document["components"]["schemas"][name]


def service_doc(paths: dict, schemas: dict) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "x", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


REGISTRATION = service_doc(
    {
        "/api/v1/registration/enrollments/residents": {"post": response_of(ref("EnrollmentOut"))},
        "/api/v1/registration/enrollments/{enrollment_id}": {"get": response_of(ref("EnrollmentOut"))},
    },
    {
        "EnrollmentOut": {
            "type": "object",
            "properties": {"person": ref("Person"), "status": {"type": "string"}},
        },
        "Person": {"type": "object", "properties": {"name": {"type": "string"}}},
        "HTTPValidationError": {"type": "object", "properties": {"detail": {"type": "array"}}},
    },
)

CLAIMS = service_doc(
    {
        "/api/v1/claims/eligibility/me": {"get": response_of(ref("EligibilityOut"))},
        "/api/v1/claims/persons/{person_id}": {"get": response_of(ref("Person"))},
        "/api/v1/claims/people": {"get": response_of({"type": "array", "items": ref("Person")})},
    },
    {
        "EligibilityOut": {
            "type": "object",
            "properties": {"person": ref("Person"), "eligible": {"type": "boolean"}},
        },
        # Same name as registration's Person, different shape: must be renamed.
        "Person": {"type": "object", "properties": {"person_id": {"type": "string", "format": "uuid"}}},
        # Identical in both services: kept once under its own name.
        "HTTPValidationError": {"type": "object", "properties": {"detail": {"type": "array"}}},
    },
)


def test_paths_of_every_service_and_the_gateway_are_merged() -> None:
    merged = merge(BASE, {"registration": REGISTRATION, "claims": CLAIMS})
    assert set(merged["paths"]) == {
        "/api/v1/calendar/days/{day}",
        "/api/v1/registration/enrollments/residents",
        "/api/v1/registration/enrollments/{enrollment_id}",
        "/api/v1/claims/eligibility/me",
        "/api/v1/claims/persons/{person_id}",
        "/api/v1/claims/people",
    }
    assert merged["info"] == BASE["info"]
    assert "DayOut" in merged["components"]["schemas"]
    assert merged["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_a_colliding_schema_is_renamed_and_its_refs_follow() -> None:
    merged = merge(BASE, {"registration": REGISTRATION, "claims": CLAIMS})
    schemas = merged["components"]["schemas"]
    # The first service keeps the name; the later one's schema is renamed <service>__<name>.
    assert schemas["Person"] == REGISTRATION["components"]["schemas"]["Person"]
    assert schemas["claims__Person"] == CLAIMS["components"]["schemas"]["Person"]

    # Every claims reference to Person now points at claims__Person: in paths, nested, and in schemas.
    paths = merged["paths"]
    person = paths["/api/v1/claims/persons/{person_id}"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    assert person == ref("claims__Person")
    people = paths["/api/v1/claims/people"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert people["items"] == ref("claims__Person")
    assert schemas["EligibilityOut"]["properties"]["person"] == ref("claims__Person")

    # Registration's references are untouched and still reach its own Person.
    enrollment = paths["/api/v1/registration/enrollments/residents"]["post"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    assert (
        resolve(merged, resolve(merged, enrollment)["properties"]["person"])
        == REGISTRATION["components"]["schemas"]["Person"]
    )


def test_identical_schemas_are_kept_once() -> None:
    merged = merge(BASE, {"registration": REGISTRATION, "claims": CLAIMS})
    schemas = merged["components"]["schemas"]
    assert "HTTPValidationError" in schemas
    assert not any(name.endswith("__HTTPValidationError") for name in schemas)
    assert not any(name.endswith(("__EnrollmentOut", "__EligibilityOut")) for name in schemas)


def test_a_schema_colliding_with_the_gateways_own_is_renamed() -> None:
    other = service_doc(
        {"/api/v1/claims/days": {"get": response_of(ref("DayOut"))}}, {"DayOut": {"type": "string"}}
    )
    merged = merge(BASE, {"claims": other})
    assert merged["components"]["schemas"]["DayOut"] == BASE["components"]["schemas"]["DayOut"]
    assert merged["components"]["schemas"]["claims__DayOut"] == {"type": "string"}
    schema = merged["paths"]["/api/v1/claims/days"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert schema == ref("claims__DayOut")


def test_every_ref_of_the_merged_document_resolves() -> None:
    merged = merge(BASE, {"registration": REGISTRATION, "claims": CLAIMS})

    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if "$ref" in node else []
            return own + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    names = set(merged["components"]["schemas"])
    assert all(r.rsplit("/", 1)[1] in names for r in refs(merged))


def test_merging_changes_neither_the_base_nor_the_service_documents() -> None:
    base, registration, claims = copy.deepcopy(BASE), copy.deepcopy(REGISTRATION), copy.deepcopy(CLAIMS)
    merge(base, {"registration": registration, "claims": claims})
    assert base == BASE
    assert registration == REGISTRATION
    assert claims == CLAIMS


def test_no_services_gives_the_gateways_own_document() -> None:
    merged = merge(BASE, {})
    assert merged["paths"] == BASE["paths"]
    assert merged["components"]["schemas"] == BASE["components"]["schemas"]


def test_a_shared_name_that_refers_to_a_renamed_schema_keeps_each_services_meaning() -> None:
    """Two services define `Coverage` with the same text ({"period": $ref Period}) but different
    `Period`s. Each service's paths must still describe its own Period after the merge."""
    coverage = {"type": "object", "properties": {"period": ref("Period")}}
    first = service_doc(
        {"/api/v1/registration/coverage": {"get": response_of(ref("Coverage"))}},
        {
            "Coverage": coverage,
            "Period": {"type": "object", "properties": {"start": {"type": "string", "format": "date"}}},
        },
    )
    second = service_doc(
        {"/api/v1/claims/coverage": {"get": response_of(ref("Coverage"))}},
        {
            "Coverage": copy.deepcopy(coverage),
            "Period": {"type": "object", "properties": {"days": {"type": "integer"}}},
        },
    )
    merged = merge(BASE, {"registration": first, "claims": second})

    def period_of(path: str) -> dict:
        schema = merged["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        return resolve(merged, resolve(merged, schema)["properties"]["period"])

    assert period_of("/api/v1/registration/coverage") == first["components"]["schemas"]["Period"]
    assert period_of("/api/v1/claims/coverage") == second["components"]["schemas"]["Period"]


# --------------------------------------------------------------------------- through the gateway app


class Thing(BaseModel):
    name: str


def alpha_service() -> FastAPI:
    app = FastAPI(openapi_url="/api/v1/alpha/openapi.json")

    @app.get("/api/v1/alpha/things/{thing_id}", response_model=Thing)
    async def thing(thing_id: int) -> Thing:
        return Thing(name=str(thing_id))

    return app


def test_gateway_serves_the_merged_document_even_when_a_service_is_down(tmp_path: Path) -> None:
    with serve(alpha_service()) as alpha:
        settings = GatewaySettings(
            upstreams={"alpha": alpha, "beta": dead_url()},
            key_dir=tmp_path,
            auth_jwks_file=tmp_path / "jwks.json",
            upstream_timeout_s=2,
            log_json=False,
        )
        with serve(create_app(settings)) as gateway:
            response = httpx.get(f"{gateway}/openapi.json", timeout=10)
    assert response.status_code == 200, response.text
    document = response.json()
    assert "/api/v1/alpha/things/{thing_id}" in document["paths"]
    assert "/api/v1/calendar/days/{day}" in document["paths"]
    assert "Thing" in document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


@pytest.mark.parametrize("service_path", ["/api/v1/alpha/openapi.json"])
def test_a_services_own_document_is_public_through_the_gateway(service_path: str, tmp_path: Path) -> None:
    with serve(alpha_service()) as alpha:
        settings = GatewaySettings(
            upstreams={"alpha": alpha},
            key_dir=tmp_path,
            auth_jwks_file=tmp_path / "jwks.json",
            log_json=False,
        )
        with serve(create_app(settings)) as gateway:
            response = httpx.get(f"{gateway}{service_path}", timeout=10)
    assert response.status_code == 200, response.text
    assert "/api/v1/alpha/things/{thing_id}" in response.json()["paths"]
