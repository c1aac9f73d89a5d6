"""参保凭证: issued by this office to a person leaving, printable from the app, reissued when lost."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.http.pagination import Page, Pages
from shared.identity import mask_id
from shared.service import UoW
from svc_transfer.api.schemas import (
    CertificateOut,
    CertificateVerificationOut,
    IssueCertificateIn,
    get_interop,
)
from svc_transfer.document import certificate_pdf
from svc_transfer.domain.certificate import IssuedCertificate, printed_code
from svc_transfer.domain.transfer import Certificate, arrears_warning
from svc_transfer.interop.exchange import Interop
from svc_transfer.usecases import certificates as usecases

router = APIRouter(prefix="/certificates", tags=["参保凭证"])
# No token: whoever holds a printed certificate checks its code (the gateway limits each address).
public = APIRouter(prefix="/public/certificates", tags=["参保凭证核验"])

Staff = Annotated[Principal, require_roles(Role.staff)]
Insured = Annotated[Principal, require_roles(Role.insured)]
Either = Annotated[Principal, require_roles(Role.insured, Role.staff)]
Number = Annotated[str, Path(max_length=40, pattern=r"^[0-9A-Za-z\-]+$")]
Code = Annotated[str, Path(max_length=40, description="核验码（凭证上印制，分组的连字符可有可无）")]


def shape(c: IssuedCertificate) -> CertificateOut:
    facts = Certificate(
        c.number, c.office_code, c.coverage_ended_on, c.contribution_months, c.account_balance, c.arrears
    )
    warnings = arrears_warning(facts)
    return CertificateOut(
        number=c.number,
        office_code=c.office_code,
        person={**c.person.__dict__, "id_number": mask_id(c.person.id_number)},
        scheme=c.scheme,
        coverage_ended_on=c.coverage_ended_on,
        contribution_months=c.contribution_months,
        history=[p.__dict__ for p in c.history],
        account_balance=c.account_balance,
        arrears=c.arrears,
        arrears_warning=warnings[0] if warnings else None,
        issued_on=c.issued_on,
        status=c.status,
        reissues=[{"at": r.at, "by": r.by} for r in c.reissues],
        account_balance_stated=c.account_balance_stated,
        account_balance_note=c.account_balance_note,
        note=c.note,
        sex=c.sex,
        clerk=c.clerk,
        office_name=c.office_name,
        office_address=c.office_address,
        office_phone=c.office_phone,
        verification_code=c.verification_code and printed_code(c.verification_code),
    )


@router.post("", status_code=201, response_model=CertificateOut, summary="出具参保凭证（中止参保后）")
async def issue(
    body: IssueCertificateIn, actor: Staff, uow: UoW, interop: Annotated[Interop, Depends(get_interop)]
) -> CertificateOut:
    certificate = await uow.run(
        usecases.issue_certificate,
        actor,
        interop=interop,
        person=body.person.domain(),
        note=body.note,
        arrears=body.arrears,
    )
    return shape(certificate)


@router.get("/mine", response_model=Page[CertificateOut], summary="我的参保凭证（可打印）")
async def mine(actor: Insured, uow: UoW, pages: Pages) -> dict:
    return pages.of([shape(c) for c in await uow.read(usecases.my_certificates, actor)])


@router.get("/{number}", response_model=CertificateOut, summary="查看参保凭证")
async def get_certificate(number: Number, actor: Either, uow: UoW) -> CertificateOut:
    return shape(await uow.read(usecases.visible_certificate, actor, number=number))


@router.post("/{number}/reissue", response_model=CertificateOut, summary="补办遗失的参保凭证")
async def reissue(number: Number, actor: Either, uow: UoW) -> CertificateOut:
    return shape(await uow.run(usecases.reissue_certificate, actor, number=number))


@router.get(
    "/{number}/document.pdf",
    summary="参保凭证 PDF（可打印）",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def certificate_document(
    number: Number, actor: Either, uow: UoW, interop: Annotated[Interop, Depends(get_interop)]
) -> Response:
    certificate = await uow.read(usecases.visible_certificate, actor, number=number)
    return Response(
        certificate_pdf(certificate, interop.settings.office_name),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificate-{number}.pdf"'},
    )


@public.get(
    "/{code}",
    response_model=CertificateVerificationOut,
    summary="核验参保凭证（公开，无需登录）：出具机构、出具日期、是否有效，不显示个人信息",
)
async def verify_certificate(code: Code, uow: UoW) -> CertificateVerificationOut:
    verification = await uow.read(usecases.verify_certificate, code=code)
    return CertificateVerificationOut(**verification.__dict__)
