"""svc-transfer."""

from fastapi import FastAPI

from shared.service import create_service_app
from svc_transfer.events.handlers import SUBSCRIPTIONS
from svc_transfer.settings import TransferSettings


def create_app(settings: TransferSettings | None = None) -> FastAPI:
    return create_service_app(
        "transfer",
        "转移接续服务 svc-transfer",
        settings or TransferSettings(),
        routers=[],
        subscriptions=SUBSCRIPTIONS,
        description="跨地区转移接续：联系函、信息表、资金划转。",
    )
