"""svc-settlement."""

from fastapi import FastAPI

from shared.ops import DeadlineProbe, OpsHooks
from shared.service import create_service_app
from svc_settlement.api.budgets import router as budgets
from svc_settlement.api.clearings import router as clearings
from svc_settlement.api.declarations import router as declarations
from svc_settlement.events.handlers import SUBSCRIPTIONS
from svc_settlement.settings import SettlementSettings
from svc_settlement.usecases.clearings import payment_deadlines


def create_app(settings: SettlementSettings | None = None) -> FastAPI:
    return create_service_app(
        "settlement",
        "定点医药机构结算服务 svc-settlement",
        settings or SettlementSettings(),
        routers=[declarations, budgets, clearings],
        subscriptions=SUBSCRIPTIONS,
        ops=OpsHooks(
            deadlines=[DeadlineProbe("settlement_payment", payment_deadlines, title="定点机构结算拨付")]
        ),
        description="月结申报、总额管理、基金清算表、审核核准与拨付。",
    )
