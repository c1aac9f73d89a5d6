"""svc-claims: eligibility, benefit computation, reimbursements and payments."""

from fastapi import FastAPI

from shared.ops import DeadlineProbe, OpsHooks
from shared.service import create_service_app
from svc_claims.api.eligibility import router as eligibility
from svc_claims.api.holiday_notices import router as holiday_notices
from svc_claims.api.maternity_quote import router as maternity_quote
from svc_claims.api.payments import router as payments
from svc_claims.api.policies import router as policies
from svc_claims.api.quote import router as quote
from svc_claims.api.reimbursements import router as reimbursements
from svc_claims.events.calendar import JOBS as CALENDAR_JOBS
from svc_claims.events.handlers import SUBSCRIPTIONS
from svc_claims.events.jobs import JOBS
from svc_claims.repository.policies import use_region
from svc_claims.settings import ClaimsSettings
from svc_claims.usecases.reimbursements import payment_deadlines


def create_app(settings: ClaimsSettings | None = None) -> FastAPI:
    settings = settings or ClaimsSettings()
    use_region(settings.region)
    return create_service_app(
        "claims",
        "待遇与报销服务 svc-claims",
        settings,
        routers=[eligibility, reimbursements, payments, quote, maternity_quote, policies, holiday_notices],
        subscriptions=SUBSCRIPTIONS,
        jobs=[*JOBS, *CALENDAR_JOBS],
        ops=OpsHooks(deadlines=[DeadlineProbe("claim_payment", payment_deadlines, title="待遇支付")]),
        description="待遇资格、待遇计算、手工报销、生育与个人账户支取。",
    )
