"""Every operation of the settlement API (read from its OpenAPI) × every caller outside a facility's reach,
against that facility's own objects: nothing of it is answered or changed. Expected answers are kept as data."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from datetime import date

import pytest
from pypdf import PdfReader

from shared.auth import Role

pytestmark = pytest.mark.integration

S = "/api/v1/settlement"
# Callers who must reach nothing of a 和平区 (120101) facility's settlement, and what they may be answered.
OUTSIDERS = {
    "another district's clerk": ({"role": Role.staff, "office_code": "120103", "office_level": "district"}, {404}),
    "another facility": ({"role": Role.facility, "facility_id": "H00000000001", "office_code": "120101", "office_level": "district"}, {403, 404}),
    "a facility account without a facility": ({"role": Role.facility}, {403, 404}),
    "ops": ({"role": Role.ops}, {403}),
    "an employer unit": ({"role": Role.unit, "unit_id": "91120101MA05K8Q4X9"}, {403}),
    "an insured person": ({"role": Role.insured}, {403}),
    "a peer office": ({"role": Role.peer_office, "office_code": "130300"}, {403}),
}  # fmt: skip
# Operations that answer anyone signed in with data that is nobody's (the formulas of the table, the
# service's business date from shared).
PUBLIC = {("get", "/clearings/formulas"), ("get", "/admin/business-date")}
# Lists answer 200 to a caller allowed to list, with nothing of the facility in them.
# Operations refused to a role whatever the object (403 before looking): staff do not declare.
ROLE_REFUSED = {("another district's clerk", "post", "/declarations")}
LISTS = {("get", "/budgets"), ("get", "/declarations"), ("get", "/entries"), ("get", "/clearings"), ("get", "/clearings/export.csv"),
         ("get", "/clearings/export.pdf"), ("get", "/clearings/export.xlsx")}  # fmt: skip


@pytest.fixture(scope="module")
def owned(settlement) -> dict[str, str]:
    """A facility with a budget, a declaration, an entry and a paid table: the objects to reach for."""
    h = settlement
    code = f"H{uuid.uuid4().int % 10**11:011d}"
    h.designate(code)
    budget = h.set_budget(code, "120000.00")
    h.today(date(2026, 4, 10))
    declaration = h.declare(code, "2026-01", "8000.00").json()
    entry = {"facility_code": code, "period": "2026-02", "insurance_type": "employee", "care_type": "inpatient",
             "kind": "other_payment", "amount": "1.00", "reason": "其他"}  # fmt: skip
    assert h.client.post(f"{S}/entries", json=entry, headers=h.district()).status_code == 201
    h.run(code, "2026-02")
    table = h.settle(h.table(code, "2026-01"))
    return {
        "code": code,
        "budget_id": budget["id"],
        "declaration_id": declaration["id"],
        "clearing_id": table["id"],
    }


def operations(settlement) -> list[tuple[str, str]]:
    paths = settlement.client.app.openapi()["paths"]
    return [
        (method, path[len(S) :])
        for path, item in paths.items()
        if path.startswith(S)
        for method in item
        if method in ("get", "post")
    ]


def bodies(code: str) -> dict[str, dict]:
    return {
        "/budgets": {"facility_code": code, "year": 2026, "insurance_type": "employee", "care_type": "outpatient", "total": "1.00", "reason": "越权"},
        "/declarations": {"facility_code": code, "period": "2026-03", "insurance_type": "employee",
                          "lines": [{"care_type": "inpatient", "origin": "local", "pooled_fund": "1.00"}]},
        "/entries": {"facility_code": code, "period": "2026-02", "insurance_type": "employee", "care_type": "inpatient",
                     "kind": "other_payment", "amount": "1.00", "reason": "越权"},
        "/assessments": {"facility_code": code, "year": 2025, "insurance_type": "employee", "care_type": "inpatient",
                         "score_ratio": "1", "book_in": "2026-01", "reason": "越权"},
        "/clearings/run": {"period": "2026-02", "facility_code": code},
    }  # fmt: skip


def mentions(response, code: str) -> bool:  # type: ignore[no-untyped-def]
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/pdf"):
        return any(
            code in (page.extract_text() or "") for page in PdfReader(io.BytesIO(response.content)).pages
        )
    if kind.startswith("application/vnd.openxmlformats"):  # a zip of XML parts
        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            return any(code.encode() in book.read(name) for name in book.namelist())
    return code in response.content.decode("utf-8-sig", errors="replace")


def test_no_caller_outside_a_facilitys_reach_gets_or_changes_anything_of_it(
    settlement, owned: dict[str, str]
) -> None:
    h, code = settlement, owned["code"]
    before = h.client.get(f"{S}/clearings/{owned['clearing_id']}/history", headers=h.district()).json()
    checked = 0
    for method, path in operations(h):
        url = S + re.sub(r"\{(\w+)\}", lambda m: owned[m.group(1)], path)
        for who, (claims, allowed) in OUTSIDERS.items():
            headers = h.token(**claims)
            if method == "get":
                answer = h.client.get(
                    url, params={"facility_code": code, "period": "2026-01"}, headers=headers
                )
            else:
                answer = h.client.post(url, json=bodies(code).get(path, {"version": 1}), headers=headers)
            checked += 1
            if (method, path) in PUBLIC:
                assert answer.status_code in allowed | {200}, (who, method, path, answer.text)
            elif answer.status_code == 200 and (method, path) in LISTS:
                assert not mentions(answer, code), (who, method, path)
            else:
                expected = {403} if (who, method, path) in ROLE_REFUSED else allowed
                assert answer.status_code in expected, (who, method, path, answer.status_code, answer.text)
    assert checked == len(operations(h)) * len(OUTSIDERS) and checked >= 20 * len(OUTSIDERS)
    # Nothing was changed by any of it.
    assert (
        h.client.get(f"{S}/clearings/{owned['clearing_id']}/history", headers=h.district()).json() == before
    )
    assert [d["id"] for d in h.client.get(f"{S}/declarations", headers=h.facility(code)).json()["items"]] == [
        owned["declaration_id"]
    ]
    assert (
        h.client.get(f"{S}/entries", params={"facility_code": code}, headers=h.district()).json()["total"]
        == 1
    )
    assert [
        b["care_type"]
        for b in h.client.get(f"{S}/budgets", params={"facility_code": code}, headers=h.district()).json()[
            "items"
        ]
    ] == ["inpatient"]
