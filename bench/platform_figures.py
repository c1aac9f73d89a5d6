"""The platform's figures of issue 22 in one short run, printed as one JSON line (for bench.compare).

    uv run python -m bench.platform_figures [--approvals 600] [--approval-rate 200] [--seconds 5] [--claims 150] [--mix-seconds 10]

One platform (one process per service) on a database and broker namespace of its own:
- registration.approved written → claims.eligible recorded, p50/p99 over `--approvals` approvals, the
  enrollments made first and then approved at `--approval-rate` a second (sent on time whatever the
  answers: the target's condition is a rate, not a number of clients);
- the authenticated read GET /api/v1/claims/eligibility/me at 16 connections through the gateway and
  straight to svc-claims (wrk when installed, else a Python load generator sharing the cores);
- claims carried to payment (five requests each) with 8 clients;
- the district mix of bench.load for `--mix-seconds` at 32 clients.
Short on purpose: `make bench` runs it twice (this tree and the previous implementation).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx

from bench import backbone, claims_flow, load
from bench.platform import NO_RATE_LIMIT, running_platform
from shared.auth import Principal, Role
from yb_deploy.pytest_plugin import isolated_servers

READ = "/api/v1/claims/eligibility/me?on=2027-06-01"


def make_zhangsan_eligible(client: httpx.Client, staff: str) -> None:
    body = {"person": {"id_number": "120101199003071235", "name": "张三"}, "office_code": "120101",
            "tier": "adult_middle", "coverage_year": 2027, "paid_on": "2026-10-15",
            "materials": {"id_document": "original"}}  # fmt: skip
    headers = {"Authorization": f"Bearer {staff}"}
    created = client.post("/api/v1/registration/enrollments/residents", json=body, headers=headers)
    approved = client.post(f"/api/v1/registration/enrollments/{created.json()['id']}/approve",
                           json={"version": 1}, headers=headers)  # fmt: skip
    approved.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approvals", type=int, default=600)
    parser.add_argument("--approval-rate", type=float, default=200, help="approvals sent per second")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--claims", type=int, default=150)
    parser.add_argument("--mix-seconds", type=float, default=10)
    parser.add_argument(
        "--json", action="store_true", help="accepted for bench.compare; the output is JSON anyway"
    )
    args = parser.parse_args()
    backbone.HTTP_SECONDS = args.seconds
    figures: dict[str, float] = {}
    with isolated_servers() as servers, running_platform(servers, **NO_RATE_LIMIT) as (config, issuer):
        with httpx.Client(base_url=config.gateway_url, timeout=30) as client:
            staff = backbone.token(client, "staff-heping")
            insured = backbone.token(client, "zhangsan")
            figures["approvals_per_s"] = asyncio.run(
                backbone.approve_many(config, staff, args.approvals, args.approval_rate)
            )
            make_zhangsan_eligible(client, staff)
        time.sleep(2)
        latencies = asyncio.run(backbone.approval_latencies(servers.admin_url))
        figures["approved_to_eligible_p50_ms"] = backbone.percentile(latencies, 50) * 1000
        figures["approved_to_eligible_p99_ms"] = backbone.percentile(latencies, 99) * 1000

        via = backbone.load(config.gateway_url + READ, insured, 16)
        direct = backbone.load(config.service_url("claims") + READ, insured, 16)
        figures |= {"read_gateway_16_per_s": via["rps"], "read_direct_16_per_s": direct["rps"],
                    "read_gateway_share_pct": via["rps"] / direct["rps"] * 100,
                    "read_errors": via["errors"] + direct["errors"]}  # fmt: skip

        def bearer(principal: Principal) -> dict[str, str]:
            return {"Authorization": f"Bearer {issuer.issue(principal)}"}

        persons = asyncio.run(claims_flow.covered_persons(servers.admin_url, args.claims))
        tokens = [(bearer(Principal(subject=f"bench-clerk-{n}", role=Role.staff, office_code="120101", office_level="district")),
                   bearer(Principal(subject=f"bench-city-{n}", role=Role.staff, office_code="120000", office_level="city")))
                  for n in range(8)]  # fmt: skip
        wall, timings, failed = asyncio.run(claims_flow.run(config.gateway_url, persons, tokens))
        figures["claims_to_payment_per_s"] = len(timings["claim"]) / wall
        figures["claims_failed"] = failed

        clerk = Principal(
            subject="load-clerk", role=Role.staff, office_code=load.OFFICE, office_level="district"
        )
        staff_headers = {"Authorization": f"Bearer {issuer.issue(clerk, ttl_s=7200)}"}
        mix_args = argparse.Namespace(seconds=args.mix_seconds, concurrency=32, population=300)
        mix = asyncio.run(load.run(config.gateway_url, issuer, staff_headers, servers.admin_url, mix_args, 1))
        p99s = [p99 for _, _, p99 in mix["per_kind"].values()]
        figures |= {"mix_per_s": mix["requests_per_s"], "mix_errors": mix["errors"],
                    "mix_p99_ms": max(p99s) if p99s else 0.0, "mix_events_lost": mix["lost"]}  # fmt: skip
    print(json.dumps(figures | {"mix_failures": mix["failures"]}))


if __name__ == "__main__":
    main()
