"""Universal-enrollment drive endpoints (全民参保计划): department lists, findings, coverage report."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from shared import spreadsheets
from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.errors import Problem
from shared.service import Runtime, UoW
from svc_registration.domain.enrollment_drive import Category, CoverageCell, Finding, ListKind
from svc_registration.usecases import drive

router = APIRouter(prefix="/drive", tags=["全民参保"])
Staff = Annotated[Principal, require_roles(Role.staff)]
MAX_BYTES = 20 * 1024 * 1024
CATEGORY_NAMES = {Category.general: "一般居民", Category.students: "学生儿童", Category.special: "特殊群体"}


class DriveListOut(BaseModel):
    id: uuid.UUID
    kind: str
    source_department: str
    office_code: str
    as_of: date
    uploaded_by: str
    uploaded_at: datetime
    row_count: int
    counts: dict[str, int] = Field(
        description="各类比对结果人数：enrolled 已参保、unenrolled 未参保、duplicate 重复参保、dead 死亡"
    )
    notes: list[str] = list(drive.NOTES)


class FindingOut(BaseModel):
    row_no: int
    id_masked: str
    name: str
    township_code: str | None
    township_name: str | None
    death_date: date | None
    school: str | None
    finding: str
    ended_enrollments: list[uuid.UUID]


class FindingsOut(BaseModel):
    items: list[FindingOut]
    total: int
    page: int
    size: int


class CellOut(BaseModel):
    target: int
    listed: int
    covered: int
    rate_percent: Decimal | None


class TownshipOut(BaseModel):
    code: str
    name: str
    categories: dict[str, CellOut]


class CoverageOut(BaseModel):
    year: int
    office_code: str
    on: date = Field(description="报告日期：以此日已核准且在待遇期内的参保为“已参保”")
    targets_on_file: bool = Field(
        description="是否有该年度、该经办机构的指导性指标（目前仅有静海区 2021 年样例数据）"
    )
    townships: list[TownshipOut]
    totals: dict[str, CellOut]
    notes: list[str] = Field(default=list(drive.COVERAGE_NOTES))


def cell(c: CoverageCell) -> CellOut:
    return CellOut(target=c.target, listed=c.listed, covered=c.covered, rate_percent=c.rate)


@router.post("/lists", status_code=201, response_model=DriveListOut, summary="导入部门名单并比对参保情况")
async def upload_list(
    actor: Staff,
    uow: UoW,
    runtime: Runtime,
    file: Annotated[
        UploadFile,
        File(
            description="Excel（xlsx，第一个工作表）或 CSV（UTF-8），首行为列名：id_type、id_number、name，及 death_date 或 township_code、township_name、school"
        ),
    ],
    kind: Annotated[ListKind, Form(description="名单类别")],
    source_department: Annotated[str, Form(min_length=2, max_length=100, description="提供部门")],
    office_code: Annotated[str, Form(pattern=r"^\d{6}$", description="名单所属经办机构（区分中心）代码")],
    as_of: Annotated[date, Form(description="名单日期（比对参保状态的日期）")],
) -> dict:
    content = await file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise Problem(
            413,
            "list_too_large",
            "名单文件过大",
            f"每个文件最大 {MAX_BYTES // 1024 // 1024} MB，请分成几份上传",
            errors=[{"field": "file", "message": f"最大 {MAX_BYTES // 1024 // 1024} MB"}],
        )
    text = _list_text(content)
    uploaded = await uow.run(
        drive.upload_list,
        actor,
        kind=kind,
        department=source_department,
        office_code=office_code,
        as_of=as_of,
        text=text,
        person_key=runtime.settings.person_id_key.encode(),
    )
    return DriveListOut(**uploaded).model_dump(mode="json")


def _list_text(content: bytes) -> str:
    """The list as CSV text: an xlsx is read as the CSV it stands for (same columns, same row numbers)."""
    if spreadsheets.is_xlsx(content):
        try:
            return spreadsheets.as_csv_text(content)
        except spreadsheets.Unreadable:
            raise Problem(422, "list_unreadable", "名单文件无法读取",
                          errors=[{"field": "file", "message": "不是可读取的 xlsx 文件"}]) from None  # fmt: skip
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(
            422,
            "list_encoding",
            "名单须为 Excel（xlsx）或 UTF-8 编码的 CSV",
            errors=[{"field": "file", "message": "请上传 xlsx，或另存为 UTF-8 CSV"}],
        ) from None


@router.get("/lists/{list_id}", response_model=DriveListOut, summary="名单比对结果汇总")
async def get_list(list_id: uuid.UUID, actor: Staff, uow: UoW) -> dict:
    return DriveListOut(**await uow.read(drive.visible_list, actor, list_id)).model_dump(mode="json")


@router.get("/lists/{list_id}/findings", response_model=FindingsOut, summary="名单比对明细（证件号码脱敏）")
async def list_findings(
    list_id: uuid.UUID,
    actor: Staff,
    uow: UoW,
    class_: Annotated[
        Finding | None, Query(alias="class", description="比对结果：enrolled、unenrolled、duplicate、dead")
    ] = None,
    finding: Annotated[Finding | None, Query(deprecated=True, description="同 class（旧名）")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict:
    rows, total = await uow.read(
        drive.findings, actor, list_id, finding=class_ or finding, offset=(page - 1) * size, limit=size
    )
    items = [FindingOut(**{k: v for k, v in r.items() if k in FindingOut.model_fields}) for r in rows]
    return FindingsOut(items=items, total=total, page=page, size=size).model_dump(mode="json")


async def _report(uow: UoW, actor: Principal, year: int, office_code: str, on: date | None) -> CoverageOut:
    day, townships, totals, targets_on_file = await uow.read(
        drive.coverage_report, actor, year=year, office_code=office_code, on=on
    )
    return CoverageOut(
        year=year,
        office_code=office_code,
        on=day,
        targets_on_file=targets_on_file,
        townships=[
            TownshipOut(code=t.code, name=t.name, categories={c.value: cell(v) for c, v in t.cells.items()})
            for t in townships
        ],
        totals={c.value: cell(v) for c, v in totals.items()},
    )


Year = Annotated[int, Query(ge=2004, le=2100)]
Office = Annotated[str, Query(pattern=r"^\d{6}$")]


@router.get("/coverage", response_model=CoverageOut, summary="参保完成情况（按乡镇、类别对照年度指导性指标）")
async def coverage(actor: Staff, uow: UoW, year: Year, office_code: Office, on: date | None = None) -> dict:
    return (await _report(uow, actor, year, office_code, on)).model_dump(mode="json")


def _coverage_table(report: CoverageOut) -> tuple[list[str], list[list]]:
    header = ["乡镇代码", "乡镇名称"] + [
        f"{CATEGORY_NAMES[c]}{what}" for c in Category for what in ("指标", "名单人数", "已参保", "完成率%")
    ]
    rows = [(t.code, t.name, t.categories) for t in report.townships] + [("", "合计", report.totals)]
    return header, [
        [code, name] + [v for c in Category for v in _cell_values(cells[c.value])]
        for code, name, cells in rows
    ]


@router.get(
    "/coverage.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="参保完成情况（电子表格 CSV）",
)
async def coverage_csv(
    actor: Staff, uow: UoW, year: Year, office_code: Office, on: date | None = None
) -> Response:
    header, rows = _coverage_table(await _report(uow, actor, year, office_code, on))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    filename = f"coverage-{office_code}-{year}.csv"
    # UTF-8 with a BOM: Excel and WPS open it with the Chinese intact.
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/coverage.xlsx",
    response_class=Response,
    responses={200: {"content": {spreadsheets.XLSX: {}}}},
    summary="参保完成情况（Excel xlsx）",
)
async def coverage_xlsx(
    actor: Staff, uow: UoW, year: Year, office_code: Office, on: date | None = None
) -> Response:
    header, rows = _coverage_table(await _report(uow, actor, year, office_code, on))
    content = spreadsheets.workbook(spreadsheets.Sheet(f"参保完成情况{year}", header, rows))
    return Response(content, media_type=spreadsheets.XLSX,
                    headers={"Content-Disposition": f'attachment; filename="coverage-{office_code}-{year}.xlsx"'})  # fmt: skip


def _cell_values(c: CellOut) -> list:
    return [c.target, c.listed, c.covered, "" if c.rate_percent is None else f"{c.rate_percent}"]
