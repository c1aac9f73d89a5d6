"""Enrollment use cases (参保登记): residents, collective filings, the flexibly employed, a unit's employees,
the decisions on an enrollment, and what transfer reports about a person. One transaction each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Problem
from shared.events import Envelope, new_envelope
from shared.events.catalog import (
    RegistrationApprovedV1,
    RegistrationStoppedV1,
    RegistrationSuspendedV1,
    RegistrationTerminatedV1,
    TransferCertificateIssuedV1,
    TransferCompletedV1,
    TransferTransferredOutV1,
)
from shared.identity import IdType
from shared.months import add_months
from svc_registration.domain.access import case_office, may_see, require_own_identity, serves_code
from svc_registration.domain.backdating import (
    LateRecord,
    refuse_backdated,
    require_paid_or_recorded,
    resident_year_is_backdated,
    working_start_is_backdated,
)
from svc_registration.domain.benefit_period import NEWBORN_WINDOW_MONTHS, resident_period
from svc_registration.domain.enrollment import (
    Category,
    Enrollment,
    Filer,
    FilerKind,
    ResidentTier,
    Status,
    TerminationReason,
    conflicting_enrollment,
    covered_in_year,
    employee_coverage_ended,
    new_employee_enrollment,
    new_flexible_enrollment,
    new_resident_enrollment,
)
from svc_registration.domain.person import Person
from svc_registration.domain.special_groups import SpecialGroupRecord, check_records
from svc_registration.domain.unit import require_accepting_employees
from svc_registration.repository.contributions import Contributions
from svc_registration.repository.enrollments import Enrollments
from svc_registration.usecases.counter import ONLINE_REQUEST, Counter, PersonDetails, handled, identify_person
from svc_registration.usecases.units import visible_unit

SCHEME_NAMES = {"employee": "职工医保", "flexible": "灵活就业人员医保", "resident": "城乡居民医保"}


@dataclass(frozen=True)
class SubmitResidentEnrollment:
    person: PersonDetails
    office_code: str
    tier: ResidentTier
    coverage_year: int
    paid_on: date | None = None  # default: the business date
    special_groups: tuple[
        SpecialGroupRecord, ...
    ] = ()  # each with its certifying department, document, validity
    autumn_pupil: bool = False  # a new pupil of the autumn collective filing by the school
    filer: Filer | None = None  # collective filing (集体参保): the papers were checked for the filing
    counter: Counter = ONLINE_REQUEST
    late_record: LateRecord | None = None  # 补登 of a coverage year already over (staff, with the papers)


@dataclass(frozen=True)
class CollectiveMember:
    person: PersonDetails
    tier: ResidentTier
    special_groups: tuple[SpecialGroupRecord, ...] = ()


@dataclass(frozen=True)
class CollectiveFiling:
    filer: Filer
    office_code: str
    coverage_year: int
    members: tuple[CollectiveMember, ...]
    paid_on: date | None = None
    autumn_pupils: bool = False
    counter: Counter = ONLINE_REQUEST
    late_record: LateRecord | None = None


@dataclass(frozen=True)
class MemberOutcome:
    row: int
    enrollment: Enrollment | None = None
    refusal: DomainError | Problem | None = None


@dataclass(frozen=True)
class EnrollEmployee:
    person: PersonDetails
    start: date | None = None  # default: the business date
    category: Category = Category.in_service
    # Foreign and Hong Kong/Macao/Taiwan employees: work or residence permit and proof of employment.
    permit_number: str | None = None
    employment_proof: str | None = None
    counter: Counter = ONLINE_REQUEST
    late_record: LateRecord | None = None  # 补登 of a start before the current month (staff, with the papers)


def duplicate_enrollment(existing: Enrollment) -> Conflict:
    scheme = SCHEME_NAMES.get(existing.scheme.value, existing.scheme.value)
    until = existing.benefit_end.isoformat() if existing.benefit_end else "长期"
    return Conflict(
        "duplicate_enrollment",
        "不允许重复参保",
        f"该参保人已有{scheme}参保登记（经办机构 {existing.office_code}，待遇期 {existing.benefit_start} 至 {until}）",
        existing_enrollment={
            "id": str(existing.id),
            "scheme": existing.scheme.value,
            "office_code": existing.office_code,
            "status": existing.status.value,
            "benefit_start": existing.benefit_start.isoformat(),
            "benefit_end": existing.benefit_end.isoformat() if existing.benefit_end else None,
        },
    )


async def _admit(
    uow: UnitOfWork, person: Person, enrollment: Enrollment, history: list[Enrollment]
) -> Enrollment:
    """Save the person and the enrollment unless another enrollment already holds the period."""
    existing = conflicting_enrollment(history, enrollment)
    if existing is not None:
        raise duplicate_enrollment(existing)
    await Enrollments(uow).admit(person, enrollment)
    if enrollment.status is Status.approved:
        uow.emit(await approved_event(enrollment, uow))
    return enrollment


async def _history_locked(uow: UnitOfWork, person_id: uuid.UUID) -> list[Enrollment]:
    """The person's enrollments, read under the per-person lock so two filings cannot both pass."""
    await Enrollments(uow).lock_person(person_id)
    return await Enrollments(uow).enrollments_of(person_id)


def _paid_on(given: date | None, today: date) -> date:
    if given is not None and given > today:
        raise Invalid(
            "paid_in_future",
            "缴费日期不能晚于今天",
            errors=[{"field": "paid_on", "message": f"不得晚于 {today}"}],
        )
    return given or today


async def submit_resident_enrollment(
    uow: UnitOfWork, actor: Principal, command: SubmitResidentEnrollment, *, person_key: bytes
) -> Enrollment:
    person = identify_person(command.person, command.office_code, person_key)
    require_own_identity(actor, person.id)
    case_office(command.office_code, actor)
    if command.special_groups and not actor.is_city_staff:
        # Seed 001 三(二)5: certified by the departments, enrolled by the city centre (市医保中心).
        raise Forbidden(
            "city_level_required",
            "特殊人员参保登记由市医保中心统一办理",
            "低保、特困、低收入、重度残疾、优抚等人员的身份由相关部门认定",
        )
    today = uow.clock.today()
    paid_on = _paid_on(command.paid_on, today)
    newborn = person.birth_date is not None and paid_on <= add_months(
        person.birth_date, NEWBORN_WINDOW_MONTHS
    )
    handling = (
        None
        if command.filer
        else handled(
            "newborn_enrollment" if newborn else "resident_enrollment", actor, command.counter, person_key
        )
    )
    history = await _history_locked(uow, person.id)
    period = resident_period(
        command.coverage_year,
        paid_on,
        covered_previous_year=covered_in_year(history, command.coverage_year - 1),
        birth_date=person.birth_date,
        autumn_pupil=command.autumn_pupil,
        after_employee_coverage=employee_coverage_ended(history),
    )
    # A payment outside the year's window is refused by resident_period; one inside the window of a year
    # already over is a late record.
    late = _late_record(
        resident_year_is_backdated(command.coverage_year, today),
        command.late_record,
        actor,
        uow,
        refuse_backdated(
            "coverage_year",
            str(today.year),
            f"{command.coverage_year} 年度的缴费期已于 {command.coverage_year}-06-30 结束",
        ),
    )
    check_records(command.special_groups, period.start, period.end)
    enrollment = new_resident_enrollment(
        person.id,
        command.office_code,
        command.tier,
        command.coverage_year,
        period,
        paid_on,
        command.special_groups,
        actor.subject,
        uow.clock.now(),
        command.filer,
        handling,
    )
    return await _admit(uow, person, replace(enrollment, late_record=late), history)


def _late_record(
    backdated: bool, given: LateRecord | None, actor: Principal, uow: UnitOfWork, refusal: DomainError
) -> dict | None:
    """The clerk's late record (补登), stamped with who made it and when, when the coverage needs one."""
    late = require_paid_or_recorded(backdated, given, actor.role is Role.staff, refusal)
    return replace(late, by=actor.subject, at=uow.clock.now()).as_dict() if late else None


async def file_collectively(
    uow: UnitOfWork, actor: Principal, filing: CollectiveFiling, *, person_key: bytes
) -> list[MemberOutcome]:
    """集体参保: a school, village, welfare institution or township files its members at the counter.

    Immediate (即时办结): each accepted member is approved by the filing clerk at once. Each member
    is its own savepoint, so one refused member (a duplicate, a bad ID) leaves the others filed and
    is answered with its reason.
    """
    if filing.autumn_pupils and filing.filer.kind is not FilerKind.school:
        raise Invalid(
            "autumn_pupils_need_school",
            "秋季入学新生只能由学校集体参保",
            errors=[{"field": "autumn_pupils", "message": "仅学校集体参保可选"}],
        )
    case_office(filing.office_code, actor)
    handled("collective_enrollment", actor, filing.counter, person_key)
    outcomes = []
    for row, member in enumerate(filing.members, start=1):
        command = SubmitResidentEnrollment(
            person=member.person,
            office_code=filing.office_code,
            tier=member.tier,
            coverage_year=filing.coverage_year,
            paid_on=filing.paid_on,
            special_groups=member.special_groups,
            autumn_pupil=filing.autumn_pupils,
            filer=filing.filer,
            late_record=filing.late_record,
        )
        try:
            async with uow.session.begin_nested():
                submitted = await submit_resident_enrollment(uow, actor, command, person_key=person_key)
                approved = submitted.approve(actor.subject, uow.clock.now(), submitted.version)
                await Enrollments(uow).update_enrollment(approved)
            uow.emit(await approved_event(approved, uow))
            outcomes.append(MemberOutcome(row, enrollment=approved))
        except (DomainError, Problem) as refusal:
            outcomes.append(MemberOutcome(row, refusal=refusal))
    return outcomes


async def submit_flexible_enrollment(
    uow: UnitOfWork,
    actor: Principal,
    *,
    details: PersonDetails,
    office_code: str,
    paid_on: date | None,
    person_key: bytes,
    counter: Counter = ONLINE_REQUEST,
    late_record: LateRecord | None = None,
) -> Enrollment:
    """灵活就业人员参保: the person enrolls (or staff at the counter for them); staff approve."""
    person = identify_person(details, office_code, person_key)
    require_own_identity(actor, person.id)
    case_office(office_code, actor)
    today = uow.clock.today()
    paid = _paid_on(paid_on, today)
    late = _late_record(
        working_start_is_backdated(paid, today),
        late_record,
        actor,
        uow,
        refuse_backdated(
            "paid_on",
            today.replace(day=1).isoformat(),
            f"缴费日期 {paid} 早于本月，之前各月的缴费经办机构无从核实",
        ),
    )
    handling = handled("flexible_enrollment", actor, counter, person_key)
    history = await _history_locked(uow, person.id)
    enrollment = new_flexible_enrollment(
        person.id, office_code, paid, actor.subject, uow.clock.now(), handling
    )
    return await _admit(uow, person, replace(enrollment, late_record=late), history)


async def enroll_employee(
    uow: UnitOfWork, actor: Principal, unit_code: str, *, command: EnrollEmployee, person_key: bytes
) -> Enrollment:
    """增员: the unit enrolls an employee; immediate, so the coverage is approved in this request."""
    unit = await visible_unit(uow, actor, unit_code)
    require_accepting_employees(unit)
    _require_foreign_employee_papers(command)
    person = identify_person(command.person, unit.office_code, person_key)
    handling = handled("employee_enrollment", actor, command.counter, person_key)
    today = uow.clock.today()
    start = command.start or today
    if start > today:
        raise Invalid(
            "start_in_future",
            "参保日期不能晚于今天",
            errors=[{"field": "start", "message": f"不得晚于 {today}"}],
        )
    late = _late_record(
        working_start_is_backdated(start, today),
        command.late_record,
        actor,
        uow,
        refuse_backdated(
            "start",
            today.replace(day=1).isoformat(),
            f"参保日期 {start} 早于本月，单位的征缴单按当月生成，之前各月的缴费经办机构无从核实",
        ),
    )
    history = await _history_locked(uow, person.id)
    enrollment = new_employee_enrollment(
        person.id,
        unit.code,
        unit.office_code,
        start,
        command.category,
        actor.subject,
        uow.clock.now(),
        handling,
    )
    return await _admit(uow, person, replace(enrollment, late_record=late), history)


def _require_foreign_employee_papers(command: EnrollEmployee) -> None:
    """外籍及港澳台人员参保: every missing paper is told at once (一次性告知)."""
    if command.person.id_type is IdType.resident_id:
        return
    missing = []
    if not command.permit_number:
        missing.append({"field": "permit_number", "message": "请提供就业许可证或居住证件编号"})
    if not command.employment_proof:
        missing.append({"field": "employment_proof", "message": "请提供劳动合同或就业证明编号"})
    if missing:
        raise Invalid(
            "materials_missing",
            "材料不全，请一次性补正",
            "外籍及港澳台人员参保须提供就业许可和就业证明",
            errors=missing,
        )


async def approved_event(enrollment: Enrollment, uow: UnitOfWork) -> Envelope:
    person = await Enrollments(uow).get_person(enrollment.person_id)
    return approved_event_of(enrollment, person.sex if person else None, uow)


def approved_event_of(enrollment: Enrollment, sex: str | None, uow: UnitOfWork) -> Envelope:
    """registration.approved, with the person's sex for benefits given by sex (claims' maternity)."""
    e = enrollment
    return new_envelope(
        RegistrationApprovedV1(
            enrollment_id=e.id,
            person_id=e.person_id,
            office_code=e.office_code,
            scheme=e.scheme.value,
            tier=e.tier.value if e.tier else None,
            special_groups=[g.value for g in e.group_codes],
            special_group_records=[r.as_dict() for r in e.special_groups],
            benefit_start=e.benefit_start,
            benefit_end=e.benefit_end,
            unit_code=e.unit_code,
            category=e.category.value if e.category else None,
            period_rule=e.period.rule,
            sex=sex,
        ),
        uow.clock,
    )


async def visible_enrollment(
    uow: UnitOfWork, actor: Principal, enrollment_id: uuid.UUID, *, for_update: bool = False
) -> Enrollment:
    """The enrollment if this caller may see it; otherwise 404, as if it did not exist."""
    return _seen_by(actor, await Enrollments(uow).get_enrollment(enrollment_id, for_update=for_update))


def _seen_by(actor: Principal, enrollment: Enrollment | None) -> Enrollment:
    if enrollment is None or not may_see(actor, enrollment):
        raise NotFound("参保登记")
    return enrollment


async def approve_enrollment(
    uow: UnitOfWork, actor: Principal, enrollment_id: uuid.UUID, *, version: int
) -> Enrollment:
    enrollment, sex = await Enrollments(uow).enrollment_to_decide(enrollment_id) or (None, None)
    enrollment = _seen_by(actor, enrollment)
    approved = enrollment.approve(actor.subject, uow.clock.now(), version)
    await Enrollments(uow).update_enrollment(approved)
    uow.emit(approved_event_of(approved, sex, uow))
    return approved


async def reject_enrollment(
    uow: UnitOfWork, actor: Principal, enrollment_id: uuid.UUID, *, version: int, reason: str
) -> Enrollment:
    enrollment = await visible_enrollment(uow, actor, enrollment_id, for_update=True)
    rejected = enrollment.reject(actor.subject, uow.clock.now(), version, reason)
    await Enrollments(uow).update_enrollment(rejected)
    return rejected


async def stop_enrollment(
    uow: UnitOfWork, actor: Principal, enrollment_id: uuid.UUID, *, version: int, reason: str
) -> Enrollment:
    """中止参保: the coverage ends today; the transfer service may then issue a certificate."""
    enrollment = await visible_enrollment(uow, actor, enrollment_id, for_update=True)
    today = uow.clock.today()
    stopped = enrollment.stop(actor.subject, uow.clock.now(), version, reason, today)
    await Enrollments(uow).update_enrollment(stopped)
    uow.emit(
        new_envelope(
            RegistrationStoppedV1(
                enrollment_id=stopped.id,
                person_id=stopped.person_id,
                office_code=stopped.office_code,
                scheme=stopped.scheme.value,
                stopped_on=today,
                reason=reason,
            ),
            uow.clock,
        )
    )
    return stopped


async def interrupt_enrollment(
    uow: UnitOfWork,
    actor: Principal,
    enrollment_id: uuid.UUID,
    *,
    version: int,
    reason: str,
    last_day: date | None,
) -> Enrollment:
    """中断: the unit stops paying; benefits run to `last_day` (default today)."""
    enrollment = await visible_enrollment(uow, actor, enrollment_id, for_update=True)
    return await save_interruption(
        uow,
        enrollment,
        by=actor.subject,
        version=version,
        reason=reason,
        last_day=last_day or uow.clock.today(),
    )


async def save_interruption(
    uow: UnitOfWork, enrollment: Enrollment, *, by: str, version: int, reason: str, last_day: date
) -> Enrollment:
    """中断 applied, saved and announced (registration.suspended tells claims): a clerk's, or an unpaid
    contribution notice's."""
    interrupted = enrollment.interrupt(by, uow.clock.now(), version, reason, last_day)
    await Enrollments(uow).update_enrollment(interrupted)
    uow.emit(
        new_envelope(
            RegistrationSuspendedV1(
                enrollment_id=interrupted.id,
                person_id=interrupted.person_id,
                office_code=interrupted.office_code,
                scheme=interrupted.scheme.value,
                last_covered_day=interrupted.benefit_end,
                reason=reason,
            ),
            uow.clock,
        )
    )
    return interrupted


async def terminate_enrollment(
    uow: UnitOfWork,
    actor: Principal,
    enrollment_id: uuid.UUID,
    *,
    version: int,
    reason: TerminationReason,
    last_day: date | None,
    note: str | None,
    person_key: bytes,
    counter: Counter = ONLINE_REQUEST,
) -> Enrollment:
    """终止: death, emigration, job ended …; benefits run to `last_day` (default today)."""
    enrollment = await visible_enrollment(
        uow, actor, enrollment_id, for_update=True
    )  # 404 before any other answer
    if reason is TerminationReason.death:  # the death certificate, at the counter
        handled("termination_death", actor, counter, person_key)
    terminated = enrollment.terminate(
        actor.subject, uow.clock.now(), version, reason, last_day or uow.clock.today(), note
    )
    await Enrollments(uow).update_enrollment(terminated)
    uow.emit(terminated_event(terminated, reason.value, uow))
    return terminated


def terminated_event(e: Enrollment, reason: str, uow: UnitOfWork) -> Envelope:
    return new_envelope(
        RegistrationTerminatedV1(
            enrollment_id=e.id,
            person_id=e.person_id,
            office_code=e.office_code,
            scheme=e.scheme.value,
            last_covered_day=e.benefit_end,
            reason=reason,
            reason_text=e.decisions[-1].reason or reason,
        ),
        uow.clock,
    )


async def refund_enrollment(
    uow: UnitOfWork, actor: Principal, enrollment_id: uuid.UUID, *, version: int, reason: str
) -> Enrollment:
    """退费: only before the benefit period starts."""
    enrollment = await visible_enrollment(uow, actor, enrollment_id, for_update=True)
    refunded = enrollment.refund(actor.subject, uow.clock.now(), version, uow.clock.today(), reason)
    await Enrollments(uow).update_enrollment(refunded)
    if enrollment.status is Status.approved:
        uow.emit(terminated_event(refunded, "refund", uow))
    return refunded


async def resume_enrollment(
    uow: UnitOfWork,
    actor: Principal,
    enrollment_id: uuid.UUID,
    *,
    version: int,
    start: date | None,
    late_record: LateRecord | None = None,
) -> Enrollment:
    """恢复: a new coverage continues the interrupted one, unless another enrollment holds it meanwhile.
    A start before the current month is a late record (domain.backdating), as for a new employee."""
    enrollment = await visible_enrollment(uow, actor, enrollment_id, for_update=True)
    history = await _history_locked(uow, enrollment.person_id)
    today = uow.clock.today()
    closed, continued = enrollment.resume(actor.subject, uow.clock.now(), version, start or today)
    late = _late_record(
        working_start_is_backdated(continued.benefit_start, today),
        late_record,
        actor,
        uow,
        refuse_backdated(
            "start",
            today.replace(day=1).isoformat(),
            f"恢复日期 {continued.benefit_start} 早于本月，之前各月的缴费经办机构无从核实",
        ),
    )
    continued = replace(continued, late_record=late)
    existing = conflicting_enrollment(history, continued)
    if existing is not None:
        raise duplicate_enrollment(existing)
    await Enrollments(uow).update_enrollment(closed)
    await Enrollments(uow).add_enrollment(continued)
    uow.emit(await approved_event(continued, uow))
    return continued


async def retire_employee(
    uow: UnitOfWork, actor: Principal, enrollment_id: uuid.UUID, *, version: int
) -> Enrollment:
    """在职转退休: announced again so claims applies retiree rules."""
    enrollment = await visible_enrollment(uow, actor, enrollment_id, for_update=True)
    retired = enrollment.retire(actor.subject, uow.clock.now(), version)
    await Enrollments(uow).update_enrollment(retired)
    uow.emit(await approved_event(retired, uow))
    return retired


async def enrollments_of_person(
    uow: UnitOfWork, actor: Principal, *, person_id: uuid.UUID | None
) -> list[Enrollment]:
    """A person's own enrollments; staff see those of their office."""
    if actor.role is Role.insured:
        person_id = actor.person_id
    if person_id is None:
        raise Invalid(
            "validation_failed", "请求参数不合法", errors=[{"field": "person_id", "message": "请提供参保人"}]
        )
    return [e for e in await Enrollments(uow).enrollments_of(person_id) if may_see(actor, e)]


async def find_person(
    uow: UnitOfWork, actor: Principal, *, id_type: IdType, id_number: str, person_key: bytes
) -> tuple[Person, list[Enrollment]]:
    """Staff search by ID number (in the request body, never in a URL)."""
    person_id = identify_person(
        PersonDetails(id_type, id_number, "-"), actor.office_code or "", person_key
    ).id
    person = await Enrollments(uow).get_person(person_id)
    found = [e for e in await Enrollments(uow).enrollments_of(person_id) if may_see(actor, e)]
    if person is None or not (found or serves_code(actor, person.office_code)):
        raise NotFound("参保人")
    return person, found


async def record_transfer_completed(uow: UnitOfWork, envelope: Envelope, event: TransferCompletedV1) -> None:
    """转入办结: the contribution history and balance from the other region join the person's record."""
    await Enrollments(uow).record_transferred_contributions(
        {
            "transfer_id": event.transfer_id,
            "person_id": event.person_id,
            "office_code": event.office_code,
            "from_office": event.from_office,
            "contribution_months": event.contribution_months,
            "account_balance": event.account_balance,
            "completed_on": event.completed_on,
        }
    )


async def record_certificate(uow: UnitOfWork, envelope: Envelope, event: TransferCertificateIssuedV1) -> None:
    """参保凭证 issued (or reissued) by transfer: shown on the person's record."""
    values = event.model_dump(
        include={
            "number",
            "person_id",
            "office_code",
            "scheme",
            "issued_on",
            "coverage_ended_on",
            "contribution_months",
            "account_balance",
            "arrears",
        }
    )
    await Enrollments(uow).record_certificate(
        {**values, "reissues": 1 if event.reissue else 0}, event.reissue
    )


async def certificates_of_person(
    uow: UnitOfWork, actor: Principal, *, person_id: uuid.UUID | None
) -> list[dict]:
    enrollments = await enrollments_of_person(uow, actor, person_id=person_id)
    if actor.role is not Role.insured and not enrollments:
        raise NotFound("参保人")
    whose = actor.person_id if actor.role is Role.insured else person_id
    assert whose is not None  # enrollments_of_person refuses a request naming nobody
    return await Enrollments(uow).certificates_of(whose)


async def contribution_history(
    uow: UnitOfWork, actor: Principal, *, person_id: uuid.UUID | None
) -> list[dict]:
    """The person's contribution history from the records, for the person or staff who see one of their
    enrollments: the periods transferred in (as the other region certified them) and each month paid here
    through a contribution notice, in date order (when the transfer completed, when the month was paid)."""
    enrollments = await enrollments_of_person(uow, actor, person_id=person_id)
    person = actor.person_id if actor.role is Role.insured else person_id
    if actor.role is not Role.insured and not enrollments:
        raise NotFound("参保人")
    assert person is not None  # enrollments_of_person refuses a request naming nobody
    transferred = [
        {**row, "source": "transfer"} for row in await Enrollments(uow).transferred_contributions_of(person)
    ]
    paid = [
        {
            "source": "notice",
            "office_code": row["office_code"],
            "contribution_months": 1,
            "account_balance": row["account_credit"],
            "completed_on": row["paid_on"],
            "month": row["month"],
            "notice_number": row["number"],
            "base": row["base"],
        }
        for row in await Contributions(uow.session).paid_months_of(person)
    ]
    return sorted(transferred + paid, key=lambda r: (r["completed_on"], r.get("month") or date.min))


async def record_transferred_out(
    uow: UnitOfWork, envelope: Envelope, event: TransferTransferredOutV1
) -> None:
    for enrollment in await Enrollments(uow).stopped_enrollments(event.person_id):
        await Enrollments(uow).update_enrollment(
            enrollment.transfer_out("transfer", uow.clock.now(), event.to_office)
        )
