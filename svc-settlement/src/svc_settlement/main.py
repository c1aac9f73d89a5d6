"""svc-settlement."""

from fastapi import FastAPI

from shared.service import create_service_app
from svc_settlement.events.handlers import SUBSCRIPTIONS
from svc_settlement.settings import SettlementSettings


def create_app(settings: SettlementSettings | None = None) -> FastAPI:
    return create_service_app(
        "settlement",
        "定点医药机构结算服务 svc-settlement",
        settings or SettlementSettings(),
        routers=[],
        subscriptions=SUBSCRIPTIONS,
        description="月结申报、总额管理、基金清算表、拨付。",
    )
