"""svc-registration: where a person's coverage begins and ends."""

from fastapi import FastAPI

from shared.service import create_service_app
from svc_registration.api.benefits import router as benefits
from svc_registration.api.contributions import router as contributions
from svc_registration.api.enrollment_drive import router as drive
from svc_registration.api.enrollments import router as enrollments
from svc_registration.api.units import router as units
from svc_registration.events.handlers import SUBSCRIPTIONS
from svc_registration.events.jobs import JOBS
from svc_registration.settings import RegistrationSettings


def create_app(settings: RegistrationSettings | None = None) -> FastAPI:
    return create_service_app(
        "registration",
        "参保登记服务 svc-registration",
        settings or RegistrationSettings(),
        routers=[enrollments, units, benefits, drive, contributions],
        subscriptions=SUBSCRIPTIONS,
        jobs=JOBS,
        description="参保登记、待遇登记、参保凭证、职工医保征缴与个人账户。",
    )
