"""Transfer cases: the person applies, the office accepts and drives the exchange, everyone follows it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.http.idempotency import IdempotencyKey, run_idempotent
from shared.service import UoW
from svc_transfer.api.schemas import (
    CASE,
    ApplicationIn,
    ConfirmFundsIn,
    OutgoingIn,
    RefusalIn,
    ResendIn,
    SendTableIn,
    TransferOut,
    Versioned,
    get_interop,
    shape,
    step_out,
)
from svc_transfer.domain.transfer import Certificate, Transfer
from svc_transfer.interop.exchange import Interop
from svc_transfer.interop.protocol import MessageType
from svc_transfer.usecases import transfers as usecases

router = APIRouter(prefix="/transfers", tags=["转移接续"])

Applicant = Annotated[Principal, require_roles(Role.insured, Role.staff)]
Staff = Annotated[Principal, require_roles(Role.staff)]
# Who may follow cases at all: the person, their unit, staff, an administrator (never ops, facilities or peers).
Follower = Annotated[Principal, require_roles(Role.insured, Role.unit, Role.staff, Role.admin)]
InteropDep = Annotated[Interop, Depends(get_interop)]


async def _act(
    uow: UoW, use_case: Callable[..., Awaitable[Transfer]], actor: Principal, **command: Any
) -> TransferOut:
    """One step of a case as one transaction, answered with the case as it now is."""
    case = await uow.run(use_case, actor, **command)
    return shape(case, uow.clock.today())


@router.post("", status_code=201, response_model=TransferOut, summary="申请转入（持转出地参保凭证）")
async def apply(
    body: ApplicationIn,
    request: Request,
    actor: Applicant,
    uow: UoW,
    interop: InteropDep,
    idempotency_key: IdempotencyKey = None,
):
    c = body.certificate
    certificate = Certificate(
        number=c.number,
        issuing_office=c.issuing_office or "army",
        coverage_ended_on=c.coverage_ended_on,
        contribution_months=c.contribution_months,
        account_balance=c.account_balance,
        arrears=c.arrears,
        army_kind=c.army_kind,
    )

    async def submit() -> tuple[int, dict]:
        case = await usecases.apply(
            uow,
            actor,
            interop=interop,
            person=body.person.domain(),
            certificate=certificate,
            unit_id=body.unit_id,
            proxy_name=body.proxy_name,
        )
        return 201, shape(case, uow.clock.today()).model_dump(mode="json")

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, submit)


@router.post(
    "/outgoing", status_code=201, response_model=TransferOut, summary="在转出地申请转出（2021年线上办理规程）"
)
async def apply_outgoing(body: OutgoingIn, actor: Applicant, uow: UoW, interop: InteropDep) -> TransferOut:
    return await _act(
        uow,
        usecases.apply_outgoing,
        actor,
        interop=interop,
        number=body.certificate_number,
        destination=body.destination_office,
    )


@router.get("", summary="我的（本机构的）转移接续业务")
async def list_cases(
    actor: Follower,
    uow: UoW,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict:
    cases, total = await uow.read(usecases.cases_of, actor, page=page, size=size)
    today = uow.clock.today()
    return {"items": [shape(c, today) for c in cases], "total": total, "page": page, "size": size}


@router.get("/worklist", summary="待办：本机构未办结业务及其办理时限（可只看已超期）")
async def worklist(actor: Staff, uow: UoW, overdue: bool = False) -> dict:
    items = await uow.read(usecases.worklist, actor, overdue_only=overdue)
    today = uow.clock.today()
    return {
        "items": [
            {
                "id": case.id,
                "side": case.side,
                "status": case.status,
                "peer_office": case.peer_office,
                "office_code": case.office_code,
                "step": step_out(step, today) if step else None,
                "delivery_failure": CASE.dump_python(case, mode="json")["delivery_failure"],
                "whole_limit": (whole := case.whole_limit()) and step_out(whole, today),
            }
            for case, step in items
        ]
    }


@router.get("/{case_id}", response_model=TransferOut, summary="查看转移接续业务及各环节时限")
async def get_case(case_id: uuid.UUID, actor: Follower, uow: UoW) -> TransferOut:
    return shape(await uow.read(usecases.visible, actor, case_id=case_id), uow.clock.today())


@router.post("/{case_id}/accept", response_model=TransferOut, summary="受理（受理后5个工作日内发出联系函）")
async def accept(
    case_id: uuid.UUID, body: Versioned, actor: Staff, uow: UoW, interop: InteropDep
) -> TransferOut:
    return await _act(uow, usecases.accept, actor, interop=interop, case_id=case_id, version=body.version)


@router.post("/{case_id}/refuse", response_model=TransferOut, summary="不予受理（告知原因）")
async def refuse(case_id: uuid.UUID, body: RefusalIn, actor: Staff, uow: UoW) -> TransferOut:
    return await _act(
        uow,
        usecases.refuse,
        actor,
        case_id=case_id,
        version=body.version,
        reason_code=body.reason_code,
        note=body.note,
    )


@router.post("/{case_id}/send-letter", response_model=TransferOut, summary="生成并发出联系函")
async def send_letter(
    case_id: uuid.UUID, body: Versioned, actor: Staff, uow: UoW, interop: InteropDep
) -> TransferOut:
    return await _act(
        uow, usecases.send_letter, actor, interop=interop, case_id=case_id, version=body.version
    )


@router.post("/{case_id}/send-table", response_model=TransferOut, summary="转出地：发出信息表并划转资金")
async def send_table(
    case_id: uuid.UUID, body: SendTableIn, actor: Staff, uow: UoW, interop: InteropDep
) -> TransferOut:
    return await _act(
        uow,
        usecases.send_table,
        actor,
        interop=interop,
        case_id=case_id,
        version=body.version,
        fund_reference=body.fund_reference,
    )


@router.post("/{case_id}/complete", response_model=TransferOut, summary="办结：合并缴费年限、记入个人账户")
async def complete(case_id: uuid.UUID, body: Versioned, actor: Staff, uow: UoW) -> TransferOut:
    return await _act(uow, usecases.complete, actor, case_id=case_id, version=body.version)


@router.post(
    "/{case_id}/confirm-funds",
    response_model=TransferOut,
    summary="核对转移资金：资金划转通知与信息表不符时，按银行到账核实后继续办结",
)
async def confirm_funds(case_id: uuid.UUID, body: ConfirmFundsIn, actor: Staff, uow: UoW) -> TransferOut:
    return await _act(
        uow,
        usecases.confirm_funds,
        actor,
        case_id=case_id,
        version=body.version,
        amount_received=body.amount_received,
        note=body.note,
    )


@router.post(
    "/{case_id}/resend",
    response_model=TransferOut,
    summary="重新发送对端拒收或无法送达的报文（更正对端地址或报文后）",
)
async def resend(case_id: uuid.UUID, body: ResendIn, actor: Staff, uow: UoW) -> TransferOut:
    return await _act(uow, usecases.resend, actor, case_id=case_id, version=body.version, note=body.note)


@router.get("/{case_id}/peer-status", summary="向对端经办机构查询办理进度")
async def peer_status(case_id: uuid.UUID, actor: Staff, uow: UoW, interop: InteropDep) -> dict:
    case = await uow.read(usecases.visible, actor, case_id=case_id)
    if case.peer_office is None:
        return {"status": "no_peer"}
    # Asked after the transaction ended: no outgoing HTTP inside a database transaction.
    return await interop.ask(case.peer_office, MessageType.status_query, case.transfer_ref, {})
