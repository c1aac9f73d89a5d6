"""The settlement app on the run's database with a token issuer and a business clock of its own, and the
steps the API tests share (budgets, declarations, clearing, the way to payment)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shared.auth import Principal, Role
from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.clock import FixedClock
from shared.events.catalog import FacilityDesignatedV1
from shared.migrations import service_database_url
from shared.testing.runs import RunServers, delete_broker_namespace

S = "/api/v1/settlement"
ISSUER, AUDIENCE = "https://auth.yibao.local", "yibao-platform"


class Harness:
    def __init__(self, client: TestClient, issuer: DevIssuer):
        self.client, self.issuer = client, issuer
        self.runtime = client.app.state.runtime  # type: ignore[attr-defined]
        self.clock = FixedClock(datetime(2026, 4, 10, 2, tzinfo=UTC))
        self.runtime.clock = self.clock

    def today(self, d: date) -> None:
        self.clock.set(datetime(d.year, d.month, d.day, 2, tzinfo=UTC))

    def token(self, role: Role, **claims) -> dict[str, str]:  # type: ignore[no-untyped-def]
        principal = Principal(
            subject=claims.pop("subject", f"{role.value}-{uuid.uuid4().hex[:6]}"), role=role, **claims
        )
        return {"Authorization": f"Bearer {self.issuer.issue(principal)}"}

    def facility(self, code: str) -> dict[str, str]:
        return self.token(
            Role.facility,
            facility_id=code,
            office_code="120101",
            office_level="district",
            subject=f"fac-{code}",
        )

    def district(self, office: str = "120101") -> dict[str, str]:
        return self.token(Role.staff, office_code=office, office_level="district", subject=f"staff-{office}")

    def city(self) -> dict[str, str]:
        return self.token(Role.staff, office_code="120000", office_level="city", subject="staff-city")

    def designate(
        self, code: str, status: str = "designated", version: int = 1, office: str = "120101"
    ) -> None:
        """Feed the projection as the consumer would (the broker path is covered end to end)."""
        from shared.projections import record_facility
        from svc_settlement.models import facilities

        event = FacilityDesignatedV1(code=code, name=f"测试医院{code[-4:]}", kind="medical_institution", district_code=office,
                                     office_code=office, status=status, version=version)  # fmt: skip

        async def feed() -> None:
            async with self.runtime.uow() as uow:
                await record_facility(uow, facilities, event)
                await uow.commit()

        self.client.portal.call(feed)  # type: ignore[union-attr]

    def call(self, work: Any) -> Any:
        """Run an async function on the app's event loop (e.g. a query on its database)."""
        return self.client.portal.call(work)  # type: ignore[union-attr]

    # ---- the steps the tests share
    def set_budget(self, code: str, total: str, care_type: str = "inpatient", year: int = 2026) -> dict:
        body = {"facility_code": code, "year": year, "insurance_type": "employee", "care_type": care_type, "total": total,
                "reason": f"{year}年度总额指标下达"}  # fmt: skip
        response = self.client.post(f"{S}/budgets", json=body, headers=self.district())
        assert response.status_code == 200, response.text
        return response.json()

    def declare(self, code: str, period: str, pooled: str, *, care_type: str = "inpatient", personal: str = "0",
                headers: dict | None = None, **extra: Any) -> httpx.Response:  # fmt: skip
        body = {"period": period, "insurance_type": "employee",
                "lines": [{"care_type": care_type, "origin": "local", "pooled_fund": pooled, "personal_account": personal}], **extra}  # fmt: skip
        return self.client.post(f"{S}/declarations", json=body, headers=headers or self.facility(code))

    def run(self, code: str, period: str, headers: dict | None = None) -> dict:
        response = self.client.post(
            f"{S}/clearings/run",
            json={"period": period, "facility_code": code},
            headers=headers or self.district(),
        )
        assert response.status_code == 200, response.text
        return response.json()

    def table(self, code: str, period: str, care_type: str = "inpatient") -> dict | None:
        page = self.client.get(
            f"{S}/clearings", params={"facility_code": code, "period": period}, headers=self.district()
        ).json()
        return next((i for i in page["items"] if i["care_type"] == care_type), None)

    def settle(self, table: dict) -> dict:
        """Review (district), approve and pay (city) a table; the paid table."""
        url, version = f"{S}/clearings/{table['id']}", table["version"]
        for action, headers in (("review", self.district()), ("approve", self.city()), ("pay", self.city())):
            response = self.client.post(f"{url}/{action}", json={"version": version}, headers=headers)
            assert response.status_code == 200, response.text
            version = response.json()["version"]
        return response.json()


@pytest.fixture(scope="session")
def settlement(
    migrated_database: str, test_servers: RunServers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harness]:
    from svc_settlement.main import create_app
    from svc_settlement.settings import SettlementSettings

    keys: Path = tmp_path_factory.mktemp("keys")
    issuer = DevIssuer.load_or_create(keys, ISSUER, AUDIENCE)
    namespace = f"{test_servers.namespace}s"
    settings = SettlementSettings(
        environment="test", database_url=service_database_url(migrated_database, "settlement"), database_pool_size=3,
        broker_url=test_servers.broker_url, broker_namespace=namespace, auth_jwks_file=keys / JWKS_FILE, log_json=False,
        auth_issuer=ISSUER, auth_audience=AUDIENCE,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield Harness(client, issuer)
    asyncio.run(delete_broker_namespace(test_servers.broker_url, namespace, ["settlement"]))
