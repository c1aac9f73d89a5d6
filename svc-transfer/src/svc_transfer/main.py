"""svc-transfer."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.ops import DeadlineProbe, OpsHooks
from shared.service import create_service_app
from svc_transfer.api.certificates import router as certificates
from svc_transfer.api.interop import overview as interop_overview
from svc_transfer.api.interop import router as interop_router
from svc_transfer.api.transfers import router as transfers
from svc_transfer.events.handlers import SUBSCRIPTIONS
from svc_transfer.events.jobs import jobs_for
from svc_transfer.interop.exchange import Interop, peer_statuses
from svc_transfer.settings import TransferSettings
from svc_transfer.usecases.deadlines import step_deadlines, whole_deadlines
from svc_transfer.usecases.transfers import flag_undelivered


def create_app(settings: TransferSettings | None = None) -> FastAPI:
    settings = settings or TransferSettings()
    interop = Interop.from_settings(settings)
    interop.on_undelivered = flag_undelivered
    app = create_service_app(
        "transfer",
        "转移接续服务 svc-transfer",
        settings,
        routers=[transfers, certificates, interop_overview],
        subscriptions=SUBSCRIPTIONS,
        jobs=jobs_for(interop),
        ops=OpsHooks(
            deadlines=[
                DeadlineProbe("transfer_step", step_deadlines),
                DeadlineProbe("transfer_whole", whole_deadlines),
            ],
            peers=peer_statuses,
        ),
        description="跨地区转移接续：参保凭证、联系函、信息表、资金划转，经办机构之间的签名报文。",
    )
    app.state.interop = interop

    @app.middleware("http")
    async def not_ready_without_peers(request: Request, call_next):  # type: ignore[no-untyped-def]
        """A broken peers file makes the service not ready, with the reason (shared health knows
        nothing of peers); what still reaches it is served with the last good configuration."""
        if request.method == "GET" and request.url.path in ("/health/ready", "/health"):
            interop.peers.all()  # re-read if it changed
            if interop.peers.error is not None:
                checks = {"peers": {"ok": False, "detail": interop.peers.error}}
                return JSONResponse(
                    {"status": "not_ready", "service": "transfer", "checks": checks}, status_code=503
                )
        return await call_next(request)

    app.include_router(interop_router)  # /interop/v1/…: outside /api/v1, reached by peers only
    return app
