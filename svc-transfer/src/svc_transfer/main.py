"""svc-transfer."""

from typing import Any

from fastapi import FastAPI

from shared.ops import DeadlineProbe, OpsHooks
from shared.service import HealthCheck, ServiceRuntime, create_service_app
from svc_transfer.api.certificates import public as public_certificates
from svc_transfer.api.certificates import router as certificates
from svc_transfer.api.interop import overview as interop_overview
from svc_transfer.api.interop import router as interop_router
from svc_transfer.api.transfers import router as transfers
from svc_transfer.events.handlers import SUBSCRIPTIONS
from svc_transfer.events.jobs import jobs_for
from svc_transfer.interop.exchange import Interop, awaiting_resend, peer_statuses
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
        routers=[transfers, certificates, public_certificates, interop_overview],
        subscriptions=SUBSCRIPTIONS,
        jobs=jobs_for(interop),
        ops=OpsHooks(
            deadlines=[
                DeadlineProbe("transfer_step", step_deadlines, title="转移接续环节"),
                DeadlineProbe("transfer_whole", whole_deadlines, title="转移接续全程（受理后20个工作日）"),
            ],
            peers=peer_statuses,
        ),
        description="跨地区转移接续：参保凭证、联系函、信息表、资金划转，经办机构之间的签名报文。",
        health_checks=_peer_checks(interop),
    )
    app.state.interop = interop
    app.include_router(interop_router)  # /interop/v1/…: outside /api/v1, reached by peers only
    return app


def _peer_checks(interop: Interop) -> list[HealthCheck]:
    """A broken peers file makes the service not ready, with the reason (what still reaches it is
    served with the last good peers); messages refused for good or given up make it degraded, naming
    the peers and how many cases wait for a re-send. The `peers` check shows only while something is
    wrong: the usual checks stay the platform's five."""

    async def peers_file(runtime: ServiceRuntime) -> dict[str, Any] | None:
        interop.peers.all()  # re-read if it changed
        return None if interop.peers.error is None else {"ok": False, "detail": interop.peers.error}

    async def deliveries(runtime: ServiceRuntime) -> dict[str, Any] | None:
        async with runtime.uow() as uow:  # only reads
            waiting = await awaiting_resend(uow)
        return _deliveries_check(waiting) if waiting else None

    # One name for both: the file is read first, and while it is broken the service is not ready.
    return [HealthCheck("peers", peers_file, readiness=True), HealthCheck("peers", deliveries)]


def _deliveries_check(waiting: dict[str, int]) -> dict[str, Any]:
    total = sum(waiting.values())
    peers = "、".join(f"{peer}（{count} 件）" for peer, count in sorted(waiting.items()))
    return {
        "ok": False,
        "awaiting_resend": waiting,
        "detail": f"{total} 件转移业务的报文被对端拒收或多次送达失败，待经办人员核实后重新发送：{peers}",
    }
