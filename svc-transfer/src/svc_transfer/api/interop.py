"""/interop/v1: where other regions' offices deliver their signed messages (no user token: the
signature is the authentication; the gateway routes only /interop to here for them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.errors import DomainError, Forbidden, Problem
from shared.service import Runtime, UoW
from svc_transfer.api.schemas import get_interop
from svc_transfer.domain.access import may_oversee_exchange
from svc_transfer.interop.exchange import Interop, audit, audit_rows, peer_delivery
from svc_transfer.interop.handlers import message_handler
from svc_transfer.interop.protocol import MEDIA_TYPE, claimed_origin

router = APIRouter(prefix="/interop/v1", tags=["跨地区经办机构接口"])

InteropDep = Annotated[Interop, Depends(get_interop)]
MAX_MESSAGE_BYTES = 256 * 1024


@router.post(
    "/messages",
    summary="接收对端经办机构的签名报文（联系函、信息表、资金划转通知、拒绝、状态查询）",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "本机构签名的确认报文（ack）"}},
    openapi_extra={
        "requestBody": {"required": True, "content": {MEDIA_TYPE: {"schema": {"type": "string"}}}}
    },
)
async def receive(request: Request, runtime: Runtime, interop: InteropDep) -> Response:
    token = (await request.body())[: MAX_MESSAGE_BYTES + 1]
    try:
        if len(token) > MAX_MESSAGE_BYTES:
            raise Problem(413, "message_too_large", "报文过大", f"报文不得超过 {MAX_MESSAGE_BYTES} 字节")
        message = interop.authenticate(token.decode("ascii", errors="replace").strip())
        ack = await runtime.uow().run(interop.receive, message, message_handler(interop))
    except (Problem, DomainError) as problem:
        # Refusals are part of the audit trail too (forged, unknown, stale, inapplicable messages).
        async with runtime.uow() as uow:
            sender, message_id, type_ = claimed_origin(token)
            await audit(uow, "in", sender, message_id, type_, f"refused:{problem.code}", problem.detail)
            await uow.commit()
        raise
    return Response(ack, media_type=MEDIA_TYPE)


@router.get("/keys", summary="本机构的报文验签公钥（JWKS），供对端配置")
async def keys(interop: InteropDep) -> dict:
    return {"office_code": interop.signer.office_code, "keys": interop.signer.public_jwks()}


# --------------------------------------------------------------------------- what staff and operators see

overview = APIRouter(prefix="/interop", tags=["跨地区经办机构接口"])
Overseer = Annotated[Principal, require_roles(Role.staff, Role.admin)]


def _city_or_admin(actor: Principal) -> None:
    if not may_oversee_exchange(actor):
        raise Forbidden("forbidden", "无权执行此操作", "对接状态与报文记录只对市级经办人员和管理员开放")


@overview.get("/peers", summary="对接的外省经办机构：办理规程、待送达报文、最近送达与错误")
async def peers(actor: Overseer, uow: UoW, interop: InteropDep) -> dict:
    _city_or_admin(actor)
    delivery = {s.peer: s for s in await uow.read(peer_delivery)}
    return {
        "office_code": interop.signer.office_code,
        "peers": [
            {
                "office_code": p.office_code,
                "name": p.name,
                "profile": p.profile.code,
                "profile_name": p.profile.name,
                "exchanges_messages": p.profile.exchanges_messages,
                "pending": delivery[code].pending if code in delivery else 0,
                "refused": delivery[code].refused if code in delivery else 0,
                "last_delivered_at": delivery[code].last_delivered_at if code in delivery else None,
                "last_error": delivery[code].last_error if code in delivery else None,
            }
            for code, p in sorted(interop.peers.all().items())
        ],
    }


@overview.get("/audit", summary="报文审计记录（收发、重试、拒收），不含报文内容")
async def audit_trail(
    actor: Overseer,
    uow: UoW,
    peer: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict:
    _city_or_admin(actor)
    return {"items": await uow.read(audit_rows, peer, limit)}
