"""svc-facility."""

from fastapi import FastAPI

from shared.ops import DeadlineProbe, OpsHooks
from shared.service import create_service_app
from svc_facility.api.applications import router as applications
from svc_facility.api.directory import router as directory
from svc_facility.api.registry import router as registry
from svc_facility.events.handlers import SUBSCRIPTIONS
from svc_facility.events.jobs import JOBS
from svc_facility.settings import FacilitySettings
from svc_facility.usecases.applications import reply_deadlines


def create_app(settings: FacilitySettings | None = None) -> FastAPI:
    return create_service_app(
        "facility",
        "定点协议管理服务 svc-facility",
        settings or FacilitySettings(),
        routers=[registry, directory, applications],
        subscriptions=SUBSCRIPTIONS,
        jobs=JOBS,
        ops=OpsHooks(deadlines=[DeadlineProbe("facility_reply", reply_deadlines, title="定点申请受理答复")]),
        description="定点申请、评估、协议、定点机构名录、经办机构目录与服务事项。",
    )
