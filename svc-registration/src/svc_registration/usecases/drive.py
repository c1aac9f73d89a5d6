"""Use cases of the universal-enrollment drive (全民参保计划): one transaction each.

A department's list is checked whole, matched against enrollment in batches, and stored with each
row's finding. A deaths list ends the coverage of every person on it (registration.terminated, so
claims stops paying after the death date); a second upload of the same list ends nothing more.

The yearly targets are sample data files (data/drive/*-targets.json), read at first use and kept in
memory; they are not copied into a table (see the README).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from shared.auth import Principal
from shared.db import UnitOfWork
from shared.errors import NotFound
from shared.identity import mask_id, person_id_for
from svc_registration.domain.access import case_office, may_end_enrollment_of_the_dead, may_see_list
from svc_registration.domain.enrollment import Status, TerminationReason
from svc_registration.domain.enrollment_drive import (
    CATEGORY_OF,
    Category,
    CoverageCell,
    Finding,
    ListKind,
    TownshipCoverage,
    classify,
    coverage,
    listed_persons,
    parse_list,
)
from svc_registration.repository.drive import Drive
from svc_registration.repository.enrollments import Enrollments
from svc_registration.usecases.enrollments import terminated_event

TARGETS_DIR = Path(__file__).parent.parent / "data" / "drive"
NOTES = ("跨省重复参保无法在本市数据中识别（无全国数据），仅识别本市不同险种或不同分中心的重复参保。",)
COVERAGE_NOTES = (
    "名单人数取本经办机构该年度最新的常住人口、学生、特殊群体名单（每类以名单日期最晚者为准）；同一人只计一次，计入最具体的类别（特殊群体、学生、一般居民）。",
    "乡镇取该名单所填乡镇，未填则取常住人口名单的乡镇；均未填的列入“（乡镇不详）”，指标表中没有的乡镇列入“（指标外）”。",
    "已参保：报告日期当日有已核准、在待遇期内的参保登记（含职工医保）。",
)


async def upload_list(
    uow: UnitOfWork,
    actor: Principal,
    *,
    kind: ListKind,
    department: str,
    office_code: str,
    as_of: date,
    text: str,
    person_key: bytes,
) -> dict:
    case_office(office_code, actor)
    rows = parse_list(kind, text, as_of)
    person_ids = [person_id_for(r.id_type, r.id_number, person_key) for r in rows]
    repo, drive = Enrollments(uow), Drive(uow.session)
    history = await drive.enrollments_of_many(list(set(person_ids)))
    list_id = uuid.uuid4()
    stored = []
    for row, person_id in zip(rows, person_ids, strict=True):
        ended = (
            await _end_coverage_of_the_dead(uow, repo, person_id, row.death_date, actor)
            if row.death_date
            else []
        )
        stored.append(
            {
                "list_id": list_id,
                "row_no": row.row,
                "person_id": person_id,
                "id_masked": mask_id(row.id_number),
                "name": row.name,
                "township_code": row.township_code,
                "township_name": row.township_name,
                "death_date": row.death_date,
                "school": row.school,
                "finding": classify(kind, history.get(person_id, []), as_of).value,
                "ended_enrollments": ended,
            }
        )
    counts = dict(Counter(r["finding"] for r in stored))
    values = {
        "id": list_id,
        "kind": kind.value,
        "source_department": department,
        "office_code": office_code,
        "as_of": as_of,
        "uploaded_by": actor.subject,
        "uploaded_at": uow.clock.now(),
        "row_count": len(stored),
        "counts": counts,
    }
    await drive.add_list(values, stored)
    return values


async def _end_coverage_of_the_dead(
    uow: UnitOfWork, repo: Enrollments, person_id: uuid.UUID, died_on: date, actor: Principal
) -> list[str]:
    """Every enrollment still holding coverage ends: approved ones terminate on the death date (the day before
    their start if that is later), filed ones are refused. An approved one whose period ended before the
    death is left alone, and so is everything already ended: a second upload ends nothing more. Only the
    enrollments of offices the uploading clerk serves are ended: another district's are its own to end."""
    await repo.lock_person(person_id)
    ended = []
    for enrollment in await repo.enrollments_of(person_id):
        locked = await repo.get_enrollment(enrollment.id, for_update=True)
        if (
            locked is None
            or locked.status not in (Status.approved, Status.submitted)
            or not may_end_enrollment_of_the_dead(actor, locked)
        ):
            continue
        if (
            locked.status is Status.approved
            and locked.benefit_end is not None
            and locked.benefit_end < died_on
        ):
            continue
        if locked.status is Status.submitted:
            await repo.update_enrollment(
                locked.reject(actor.subject, uow.clock.now(), locked.version, f"死亡（{died_on}）")
            )
        else:
            last_day = max(died_on, locked.benefit_start - timedelta(days=1))
            terminated = locked.terminate(
                actor.subject,
                uow.clock.now(),
                locked.version,
                TerminationReason.death,
                last_day,
                f"民政死亡名单 {died_on}",
            )
            await repo.update_enrollment(terminated)
            uow.emit(terminated_event(terminated, "death", uow))
        ended.append(str(locked.id))
    return ended


async def visible_list(uow: UnitOfWork, actor: Principal, list_id: uuid.UUID) -> dict:
    found = await Drive(uow.session).get_list(list_id)
    if found is None or not may_see_list(actor, found["office_code"]):
        raise NotFound("名单")
    return found


async def findings(
    uow: UnitOfWork, actor: Principal, list_id: uuid.UUID, *, finding: Finding | None, offset: int, limit: int
) -> tuple[list[dict], int]:
    await visible_list(uow, actor, list_id)
    return await Drive(uow.session).findings(list_id, finding.value if finding else None, offset, limit)


@cache
def targets_of(year: int, office_code: str) -> tuple[dict, ...]:
    """The yearly targets per township and category on file (sample data: Jinghai 2021 of seed 001)."""
    for path in TARGETS_DIR.glob("*-targets.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["year"] == year and data["office_code"] == office_code:
            return tuple(data["townships"])
    return ()


async def coverage_report(
    uow: UnitOfWork, actor: Principal, *, year: int, office_code: str, on: date | None
) -> tuple[date, list[TownshipCoverage], dict[Category, CoverageCell], bool]:
    """Coverage against the targets: persons of the office's latest list of each kind dated in the year
    (population register, students, special groups), and which of them have approved coverage on the
    report day (by default today, at most 31 December of the year). The flag tells whether targets are on file."""
    case_office(office_code, actor)
    day = on or min(uow.clock.today(), date(year, 12, 31))
    drive = Drive(uow.session)
    lists = await drive.latest_lists(office_code, year, [kind.value for kind in CATEGORY_OF])
    rows = {ListKind(kind): await drive.rows_of(list_id) for kind, list_id in lists.items()}
    listed = listed_persons(rows)
    covered = await drive.covered_on(list(lists.values()), day)
    targets = list(targets_of(year, office_code))
    townships, totals = coverage(targets, listed, covered)
    return day, townships, totals, bool(targets)
