"""The platform-wide access matrix: every operation of the gateway's merged OpenAPI × every role × an
object of 和平区 (the district clerk's own) and one of 河西区 (another district's), through the gateway
with real tokens. The roles that may be answered 2xx are kept as data (access_matrix.yaml); any other
2xx fails, and so does an answer that shows another district's object to a caller outside its reach.

Writes are sent with a body built from the operation's schema, so that an answer is about access, not
about a malformed body; where the body is still refused (422) the case tells nothing about the object
check, and the count of such cases is printed with the others.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from shared.auth.principal import Principal, Role
from shared.testing.e2e import answer_until, bearer, business_today, new_resident_id, poll
from shared.testing.tokens import listed_token
from yb_deploy.platform import PlatformConfig

TABLE = yaml.safe_load((Path(__file__).parent / "access_matrix.yaml").read_text(encoding="utf-8"))
ROLES = ("insured", "unit", "facility", "district_clerk", "city_reviewer", "peer", "ops", "admin")
ACCOUNTS = {
    "insured": "zhangsan",
    "unit": "unit-demo",
    "facility": "facility-demo",
    "district_clerk": "staff-heping",
    "city_reviewer": "staff-city",
    "ops": "ops",
    "admin": "admin",
}
# Who reaches each side's objects: 和平区's are the district clerk's own; 河西区's only the city's and the
# administrator's. Nobody else reaches either (the objects built here are nobody's own person, unit or facility).
REACH = {"heping": {"district_clerk", "city_reviewer", "admin"}, "hexi": {"city_reviewer", "admin"}}
OFFICE = {"heping": "120101", "hexi": "120103"}
CLERK = {"heping": "staff-heping", "hexi": "staff-hexi"}
REGISTRY = {"heping": "H12010100002", "hexi": "H12010300001"}
METHODS = ("get", "post", "put", "patch", "delete")


def operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, op)
        for path, item in sorted(document["paths"].items())
        for method, op in item.items()
        if method in METHODS
    ]


def allowed(method: str, path: str) -> set[str]:
    roles = TABLE["operations"][f"{method} {path}"]
    return set(ROLES) if roles == "anyone" else set(roles or ())


def public(method: str, path: str) -> bool:
    return f"{method} {path}" in TABLE["public"]


# ------------------------------------------------------------------------------------------ callers


@pytest.fixture(scope="module")
def callers(platform: PlatformConfig, tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    headers = {role: bearer(tokens[account]) for role, account in ACCOUNTS.items()}
    # A peer office speaks through signed interop messages and has no demo account: the test platform
    # lists its principal with the gateway, as every token the tests mint (see docs/security.md).
    peer = Principal(subject="peer-310000", role=Role.peer_office, office_code="310000")
    headers["peer"] = bearer(listed_token(platform.keys_dir, peer))
    return headers


# ------------------------------------------------------------------------------------------ objects


def enrolled(gateway: httpx.Client, clerk: dict[str, str], office: str) -> dict[str, str]:
    body = {"person": {"id_number": new_resident_id(office), "name": "矩阵居民"}, "office_code": office,
            "tier": "adult_middle", "coverage_year": business_today().year,
            "paid_on": f"{business_today().year - 1}-10-15", "materials": {"id_document": "original"}}  # fmt: skip
    created = gateway.post("/api/v1/registration/enrollments/residents", json=body, headers=clerk)
    assert created.status_code == 201, created.text
    enrollment = created.json()
    approved = gateway.post(
        f"/api/v1/registration/enrollments/{enrollment['id']}/approve", json={"version": 1}, headers=clerk
    )
    assert approved.status_code == 200, approved.text
    return {"enrollment_id": enrollment["id"], "person_id": enrollment["person_id"]}


def budget(gateway: httpx.Client, clerk: dict[str, str], facility: str) -> str:
    body = {"facility_code": facility, "year": business_today().year, "insurance_type": "employee",
            "care_type": "outpatient", "total": "1000.00", "reason": "访问矩阵"}  # fmt: skip
    created = answer_until(
        lambda: gateway.post("/api/v1/settlement/budgets", json=body, headers=clerk),
        lambda r: r.status_code != 404,
        what="settlement to know the facility",
    )
    assert created.status_code in (200, 201), created.text  # 200: set before in this run
    return str(created.json()["id"])


def application(gateway: httpx.Client, applicant: dict[str, str]) -> str:
    """A pharmacy's application for designation at 河西区 (its applicant is none of the matrix's roles)."""
    today = business_today()
    facts = {"kind": "retail_pharmacy", "institution_type": None, "opened_on": f"{today.year - 2}-01-10",
             "pharmacists": [{"registered_here": True, "contract_months": 24}],
             "insurance_staff": [{"registered_here": False, "contract_months": 24}] * 2,
             "systems": ["insurance", "finance", "statistics", "quality", "insurance_drugs", "insurance_personnel",
                         "settlement"],
             "information_system_connected": True, "uses_national_codes": True, "purchasing_platform": True,
             "equipment": ["video", "biometric", "drug_tracing"], "drug_zoning_and_labels": True}  # fmt: skip
    body = {
        "name": "矩阵药房",
        "district_code": "120103",
        "office_code": "120103",
        "facts": facts,
        "materials": [],
    }
    filed = gateway.post("/api/v1/facility/applications", json=body, headers=applicant)
    assert filed.status_code == 201, filed.text
    return str(filed.json()["application"]["id"])


@pytest.fixture(scope="module")
def objects(gateway: httpx.Client, tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per side, the value of each path parameter: a real object of that district where one is built."""
    built: dict[str, dict[str, str]] = {}
    for side, office in OFFICE.items():
        clerk = bearer(tokens[CLERK[side]])
        values = {**enrolled(gateway, clerk, office), "registry_code": REGISTRY[side], "office": office}
        values["budget_id"] = budget(gateway, clerk, REGISTRY[side])
        built[side] = values
    built["heping"]["application_id"] = str(uuid.uuid4())  # none built: 和平区 has no applicant account
    built["hexi"]["application_id"] = application(gateway, bearer(tokens["pharmacy-applicant"]))
    admin = bearer(tokens["admin"])
    for side in OFFICE:
        eligibility = f"/api/v1/claims/persons/{built[side]['person_id']}/eligibility"
        poll(
            lambda e=eligibility: gateway.get(e, headers=admin).status_code == 200,
            what="claims to know the person",
        )
    return built


def path_value(path: str, name: str, values: dict[str, str]) -> str:
    """The value a path parameter takes on one side: its real object, or an unknown one of the right form."""
    if name in ("enrollment_id", "person_id"):
        return values[name]
    if name == "code":
        if "/registry/" in path:
            return values["registry_code"]
        if "/offices/" in path:
            return values["office"]
        return "91120103MA05K8Q4X0" if "/units/" in path else "ABCDEFGH"
    if name in ("budget_id", "application_id"):
        return values[name]
    if name == "year":
        return str(business_today().year)
    if name == "number":
        return "JZ" + "0" * 16
    return str(uuid.uuid4())


# ------------------------------------------------------------------------------------------ bodies


def example(schema: dict, components: dict, depth: int = 0) -> Any:
    """A value a schema accepts, as far as a small generator can tell (required fields only)."""
    if "$ref" in schema:
        return example(components[schema["$ref"].rsplit("/", 1)[1]], components, depth)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return example(options[0], components, depth) if options else None
    if "const" in schema:
        return schema["const"]
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        properties = schema.get("properties", {})
        return {
            k: example(properties[k], components, depth + 1)
            for k in schema.get("required", [])
            if k in properties
        }
    if kind == "array":
        return [example(schema.get("items", {}), components, depth + 1)] * max(1, schema.get("minItems", 0))
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    return string_example(schema)


def string_example(schema: dict) -> str:
    fmt, pattern = schema.get("format"), schema.get("pattern", "")
    if fmt == "date":
        return business_today().isoformat()
    if fmt == "date-time":
        return f"{business_today().isoformat()}T09:00:00+08:00"
    if fmt == "uuid":
        return str(uuid.uuid4())
    if re.search(r"\\d\{6\}", pattern):
        return "120101"
    if "\\d{4}-\\d{2}" in pattern:
        return f"{business_today().year}-01"
    if re.fullmatch(r"\^?-?\\d\+?(\(\\\.\\d\{1,2\}\))?\??\$?", pattern or "x") or "\\d+" in pattern:
        return "1.00"
    return "矩阵" * max(1, schema.get("minLength", 1))


def body_for(op: dict, components: dict) -> Any:
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return example(content["application/json"]["schema"], components)
    return None


# ------------------------------------------------------------------------------------------ the matrix


def request(
    gateway: httpx.Client, method: str, url: str, headers: dict[str, str], body: Any
) -> httpx.Response:
    """One call; the gateway's per-address limit is waited out (the matrix is many calls from one address)."""
    while True:
        answer = gateway.request(method, url, headers=headers, json=body)
        if answer.status_code != 429:
            return answer
        time.sleep(float(answer.headers.get("Retry-After", "1")))


def test_every_operation_for_every_role_answers_2xx_only_where_the_table_allows_and_never_shows_another_districts_object(
    gateway: httpx.Client, callers: dict[str, dict[str, str]], objects: dict[str, dict[str, str]]
) -> None:
    document = gateway.get("/openapi.json").json()
    ops = operations(document)
    unlisted = sorted(f"{m} {p}" for m, p, _ in ops if f"{m} {p}" not in TABLE["operations"])
    assert not unlisted, (
        f"operations the access table does not list (add them to access_matrix.yaml): {unlisted}"
    )

    components = document.get("components", {}).get("schemas", {})
    counts: Counter[str] = Counter()
    unexpected: list[str] = []
    foreign = {objects["hexi"][k] for k in ("enrollment_id", "person_id", "budget_id", "application_id")}
    for method, path, op in ops:
        names = re.findall(r"\{(\w+)\}", path)
        sides = ("heping", "hexi") if names else ("none",)
        body = body_for(op, components)
        for role in ROLES:
            for side in sides:
                may = role in allowed(method, path) and (
                    side == "none" or public(method, path) or role in REACH[side]
                )
                if may and f"{method} {path}" in TABLE["streams"]:
                    counts["streams not opened"] += 1
                    continue
                if may and method != "GET":
                    # A change the caller is entitled to is not made: it would alter the platform under the
                    # other tests (a suspended hospital, a moved business date, revoked tokens) and says
                    # nothing about access.
                    counts["allowed changes not sent"] += 1
                    continue
                url = path
                for name in names:
                    url = url.replace(f"{{{name}}}", path_value(path, name, objects[side]))
                answer = request(gateway, method, url, callers[role], body)
                counts["requests"] += 1
                counts[f"{answer.status_code // 100}xx"] += 1
                counts["422 (body refused)"] += answer.status_code == 422
                if answer.status_code >= 500:
                    unexpected.append(f"{role} {method} {url} → {answer.status_code}")
                if not answer.is_success:
                    continue
                if not may:
                    unexpected.append(f"{role} {method} {url} ({side}) → {answer.status_code}")
                elif role not in REACH["hexi"] and any(value in answer.text for value in foreign):
                    unexpected.append(f"{role} {method} {url} shows 河西区's object")
    print(
        f"\naccess matrix: {len(ops)} operations × {len(ROLES)} roles × own/another's object = "
        f"{counts['requests']} requests; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
    assert not unexpected, "\n".join(unexpected)
