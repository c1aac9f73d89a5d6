"""Registration use cases: one transaction each (load → domain → save → outbox → commit by caller)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import Problem, not_found
from shared.events import Envelope, new_envelope
from shared.events.catalog import (
    FacilityDesignatedV1,
    RegistrationApprovedV1,
    RegistrationBenefitExpiredV1,
    RegistrationBenefitRegisteredV1,
    RegistrationStoppedV1,
    RegistrationSuspendedV1,
    RegistrationTerminatedV1,
    TransferCertificateIssuedV1,
    TransferCompletedV1,
    TransferTransferredOutV1,
)
from shared.identity import IdType, mask_id
from shared.money import money_text
from svc_registration.domain.backdating import (
    LateRecord,
    refuse_backdated,
    require_paid_or_recorded,
    resident_year_is_backdated,
    working_start_is_backdated,
)
from svc_registration.domain.benefit import (
    RESIDENT_OUTPATIENT,
    SPECIAL_DISEASE,
    BenefitRegistration,
    certify_special_disease,
    choose_resident_outpatient_hospital,
    with_treatment_facility,
)
from svc_registration.domain.benefit_items import handled_citywide
from svc_registration.domain.benefit_period import NEWBORN_WINDOW_MONTHS, add_months, resident_period
from svc_registration.domain.care_registrations import (
    DEPUTY_DIRECTOR,
    FP_COMPLICATION,
    HOSPITALIZATION,
    LOST_RECEIPT,
    MATERNITY_HOSPITALIZATION,
    MATERNITY_REFERRAL,
    MATERNITY_REMOTE,
    PREGNANCY,
    SARS,
    TB,
    AdmissionDocument,
    LetterRequest,
    SarsInfection,
    hospitalization_letter,
    not_after,
    require_lost_receipt_in_time,
    sars_hospitals,
    tb_choice_given,
    tb_local_hospital,
    tb_remote_patient,
)
from svc_registration.domain.care_registrations import registration as care_registration
from svc_registration.domain.enrollment import (
    HOLDS_COVERAGE,
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
from svc_registration.domain.facility import KnownFacility, require_designated
from svc_registration.domain.materials import ITEMS, ONLINE, Form, Handling, check_materials
from svc_registration.domain.maternity import (
    MaternityRemoteCategory,
    MaternityStay,
    maternity_referral,
    maternity_remote_facilities,
    missing_basis,
    pregnancy,
    pregnancy_start,
    require_fp_window,
    require_maternity_hospital,
    stay_basis,
    unit_files_only_remote_workers,
)
from svc_registration.domain.person import Person, Sex, identify
from svc_registration.domain.remote_care import REMOTE_CARE, LongTermCategory, RemoteKind, TripReason
from svc_registration.domain.remote_care import file_remote_care as remote_care_filing
from svc_registration.domain.special_groups import SpecialGroupRecord, check_records
from svc_registration.domain.unit import ChangeKind, Unit, UnitChange, UnitStatus, require_accepting_employees
from svc_registration.domain.unit import register_unit as new_unit
from svc_registration.offices import case_office, in_clerks_city, serves_code
from svc_registration.repository import Repository

SCHEME_NAMES = {"employee": "职工医保", "flexible": "灵活就业人员医保", "resident": "城乡居民医保"}


@dataclass(frozen=True)
class PersonDetails:
    id_type: IdType
    id_number: str
    name: str
    sex: Sex | None = None
    birth_date: date | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Counter:
    """What a clerk received at the counter: the papers (and in which form) and the proxy, if any."""

    materials: Mapping[str, Form] = field(default_factory=dict)
    proxy: PersonDetails | None = None


ONLINE_REQUEST = Counter()


def handled(item: str, actor: Principal, counter: Counter, person_key: bytes) -> dict:
    """Papers are checked where a clerk receives them; self-service identifies the applicant by login."""
    if actor.role is not Role.staff:
        return ONLINE.as_dict()
    proxy = _identify(counter.proxy, actor.office_code or "", person_key) if counter.proxy else None
    check_materials(ITEMS[item], counter.materials, by_proxy=proxy is not None)
    return Handling("counter", dict(counter.materials), proxy.name if proxy else None, mask_id(proxy.id_number) if proxy else None).as_dict()


@dataclass(frozen=True)
class SubmitResidentEnrollment:
    person: PersonDetails
    office_code: str
    tier: ResidentTier
    coverage_year: int
    paid_on: date | None = None  # default: the business date
    special_groups: tuple[SpecialGroupRecord, ...] = ()  # each with its certifying department, document, validity
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
    refusal: Problem | None = None


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


def duplicate_enrollment(existing: Enrollment) -> Problem:
    scheme = SCHEME_NAMES.get(existing.scheme.value, existing.scheme.value)
    until = existing.benefit_end.isoformat() if existing.benefit_end else "长期"
    return Problem(
        409,
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


def _identify(details: PersonDetails, office_code: str, person_key: bytes) -> Person:
    d = details
    return identify(d.id_type, d.id_number, d.name, office_code, person_key, d.sex, d.birth_date, d.phone)


async def _admit(uow: UnitOfWork, repo: Repository, person: Person, enrollment: Enrollment, history: list[Enrollment]) -> Enrollment:
    """Save the person and the enrollment unless another enrollment already holds the period."""
    existing = conflicting_enrollment(history, enrollment)
    if existing is not None:
        raise duplicate_enrollment(existing)
    await repo.save_person(person)
    await repo.add_enrollment(enrollment)
    if enrollment.status is Status.approved:
        uow.emit(await approved_event(enrollment, uow))
    return enrollment


async def _history_locked(repo: Repository, person_id: uuid.UUID) -> list[Enrollment]:
    """The person's enrollments, read under the per-person lock so two filings cannot both pass."""
    await repo.lock_person(person_id)
    return await repo.enrollments_of(person_id)


def _paid_on(given: date | None, today: date) -> date:
    if given is not None and given > today:
        raise Problem(422, "paid_in_future", "缴费日期不能晚于今天", errors=[{"field": "paid_on", "message": f"不得晚于 {today}"}])
    return given or today


async def submit_resident_enrollment(
    uow: UnitOfWork, command: SubmitResidentEnrollment, actor: Principal, person_key: bytes
) -> Enrollment:
    person = _identify(command.person, command.office_code, person_key)
    if actor.role is Role.insured and actor.person_id != person.id:
        raise Problem(403, "not_own_identity", "只能为本人办理参保登记")
    case_office(command.office_code, actor)
    if command.special_groups and not actor.is_city_staff:
        # Seed 001 三(二)5: certified by the departments, enrolled by the city centre (市医保中心).
        raise Problem(403, "city_level_required", "特殊人员参保登记由市医保中心统一办理", "低保、特困、低收入、重度残疾、优抚等人员的身份由相关部门认定")
    today = uow.clock.today()
    paid_on = _paid_on(command.paid_on, today)
    newborn = person.birth_date is not None and paid_on <= add_months(person.birth_date, NEWBORN_WINDOW_MONTHS)
    handling = None if command.filer else handled("newborn_enrollment" if newborn else "resident_enrollment", actor, command.counter, person_key)
    repo = Repository(uow.session)
    history = await _history_locked(repo, person.id)
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
        resident_year_is_backdated(command.coverage_year, today), command.late_record, actor, uow,
        refuse_backdated("coverage_year", str(today.year), f"{command.coverage_year} 年度的缴费期已于 {command.coverage_year}-06-30 结束"),
    )  # fmt: skip
    check_records(command.special_groups, period.start, period.end)
    enrollment = new_resident_enrollment(
        person.id, command.office_code, command.tier, command.coverage_year, period, paid_on,
        command.special_groups, actor.subject, uow.clock.now(), command.filer, handling,
    )  # fmt: skip
    return await _admit(uow, repo, person, replace(enrollment, late_record=late), history)


def _late_record(backdated: bool, given: LateRecord | None, actor: Principal, uow: UnitOfWork, refusal: Problem) -> dict | None:
    """The clerk's late record (补登), stamped with who made it and when, when the coverage needs one."""
    late = require_paid_or_recorded(backdated, given, actor.role is Role.staff, refusal)
    return replace(late, by=actor.subject, at=uow.clock.now()).as_dict() if late else None


async def file_collectively(uow: UnitOfWork, filing: CollectiveFiling, actor: Principal, person_key: bytes) -> list[MemberOutcome]:
    """集体参保: a school, village, welfare institution or township files its members at the counter.

    Immediate (即时办结): each accepted member is approved by the filing clerk at once. Each member
    is its own savepoint, so one refused member (a duplicate, a bad ID) leaves the others filed and
    is answered with its reason.
    """
    if filing.autumn_pupils and filing.filer.kind is not FilerKind.school:
        raise Problem(422, "autumn_pupils_need_school", "秋季入学新生只能由学校集体参保",
                      errors=[{"field": "autumn_pupils", "message": "仅学校集体参保可选"}])  # fmt: skip
    case_office(filing.office_code, actor)
    handled("collective_enrollment", actor, filing.counter, person_key)
    outcomes = []
    for row, member in enumerate(filing.members, start=1):
        command = SubmitResidentEnrollment(
            person=member.person, office_code=filing.office_code, tier=member.tier, coverage_year=filing.coverage_year,
            paid_on=filing.paid_on, special_groups=member.special_groups, autumn_pupil=filing.autumn_pupils, filer=filing.filer,
            late_record=filing.late_record,
        )  # fmt: skip
        try:
            async with uow.session.begin_nested():
                submitted = await submit_resident_enrollment(uow, command, actor, person_key)
                approved = submitted.approve(actor.subject, uow.clock.now(), submitted.version)
                await Repository(uow.session).update_enrollment(approved)
            uow.emit(await approved_event(approved, uow))
            outcomes.append(MemberOutcome(row, enrollment=approved))
        except Problem as refusal:
            outcomes.append(MemberOutcome(row, refusal=refusal))
    return outcomes


async def submit_flexible_enrollment(
    uow: UnitOfWork, details: PersonDetails, office_code: str, paid_on: date | None, actor: Principal, person_key: bytes,
    counter: Counter = ONLINE_REQUEST, late_record: LateRecord | None = None,
) -> Enrollment:  # fmt: skip
    """灵活就业人员参保: the person enrolls (or staff at the counter for them); staff approve."""
    person = _identify(details, office_code, person_key)
    if actor.role is Role.insured and actor.person_id != person.id:
        raise Problem(403, "not_own_identity", "只能为本人办理参保登记")
    case_office(office_code, actor)
    today = uow.clock.today()
    paid = _paid_on(paid_on, today)
    late = _late_record(
        working_start_is_backdated(paid, today), late_record, actor, uow,
        refuse_backdated("paid_on", today.replace(day=1).isoformat(), f"缴费日期 {paid} 早于本月，之前各月的缴费经办机构无从核实"),
    )  # fmt: skip
    handling = handled("flexible_enrollment", actor, counter, person_key)
    repo = Repository(uow.session)
    history = await _history_locked(repo, person.id)
    enrollment = new_flexible_enrollment(person.id, office_code, paid, actor.subject, uow.clock.now(), handling)
    return await _admit(uow, repo, person, replace(enrollment, late_record=late), history)


async def enroll_employee(uow: UnitOfWork, unit_code: str, command: EnrollEmployee, actor: Principal, person_key: bytes) -> Enrollment:
    """增员: the unit enrolls an employee; immediate, so the coverage is approved in this request."""
    unit = await visible_unit(uow, unit_code, actor)
    require_accepting_employees(unit)
    _require_foreign_employee_papers(command)
    person = _identify(command.person, unit.office_code, person_key)
    handling = handled("employee_enrollment", actor, command.counter, person_key)
    today = uow.clock.today()
    start = command.start or today
    if start > today:
        raise Problem(422, "start_in_future", "参保日期不能晚于今天", errors=[{"field": "start", "message": f"不得晚于 {today}"}])
    late = _late_record(
        working_start_is_backdated(start, today), command.late_record, actor, uow,
        refuse_backdated("start", today.replace(day=1).isoformat(), f"参保日期 {start} 早于本月，单位的征缴单按当月生成，之前各月的缴费经办机构无从核实"),
    )  # fmt: skip
    repo = Repository(uow.session)
    history = await _history_locked(repo, person.id)
    enrollment = new_employee_enrollment(person.id, unit.code, unit.office_code, start, command.category, actor.subject, uow.clock.now(), handling)
    return await _admit(uow, repo, person, replace(enrollment, late_record=late), history)


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
        raise Problem(422, "materials_missing", "材料不全，请一次性补正", "外籍及港澳台人员参保须提供就业许可和就业证明", errors=missing)


async def approved_event(enrollment: Enrollment, uow: UnitOfWork) -> Envelope:
    e = enrollment
    person = await Repository(uow.session).get_person(e.person_id)  # its sex, for benefits given by sex (claims' maternity)
    return new_envelope(
        RegistrationApprovedV1(
            enrollment_id=e.id, person_id=e.person_id, office_code=e.office_code, scheme=e.scheme.value,
            tier=e.tier.value if e.tier else None, special_groups=[g.value for g in e.group_codes],
            special_group_records=[r.as_dict() for r in e.special_groups],
            benefit_start=e.benefit_start, benefit_end=e.benefit_end, unit_code=e.unit_code,
            category=e.category.value if e.category else None, period_rule=e.period.rule, sex=person.sex if person else None,
        ),
        uow.clock,
    )  # fmt: skip


async def visible_enrollment(uow: UnitOfWork, enrollment_id: uuid.UUID, actor: Principal, for_update: bool = False) -> Enrollment:
    """The enrollment if this caller may see it; otherwise 404, as if it did not exist."""
    enrollment = await Repository(uow.session).get_enrollment(enrollment_id, for_update=for_update)
    if enrollment is None or not may_see(actor, enrollment):
        raise not_found("参保登记")
    return enrollment


def may_see(actor: Principal, enrollment: Enrollment) -> bool:
    if actor.role is Role.insured:
        return actor.person_id == enrollment.person_id
    if actor.role is Role.unit:
        return enrollment.unit_code is not None and actor.unit_id == enrollment.unit_code
    if actor.role is Role.staff:
        return serves_code(actor, enrollment.office_code)
    return actor.role is Role.admin


async def approve_enrollment(uow: UnitOfWork, enrollment_id: uuid.UUID, version: int, actor: Principal) -> Enrollment:
    enrollment = await visible_enrollment(uow, enrollment_id, actor, for_update=True)
    approved = enrollment.approve(actor.subject, uow.clock.now(), version)
    await Repository(uow.session).update_enrollment(approved)
    uow.emit(await approved_event(approved, uow))
    return approved


async def reject_enrollment(
    uow: UnitOfWork, enrollment_id: uuid.UUID, version: int, reason: str, actor: Principal
) -> Enrollment:
    enrollment = await visible_enrollment(uow, enrollment_id, actor, for_update=True)
    rejected = enrollment.reject(actor.subject, uow.clock.now(), version, reason)
    await Repository(uow.session).update_enrollment(rejected)
    return rejected


async def stop_enrollment(
    uow: UnitOfWork, enrollment_id: uuid.UUID, version: int, reason: str, actor: Principal
) -> Enrollment:
    """中止参保: the coverage ends today; the transfer service may then issue a certificate."""
    enrollment = await visible_enrollment(uow, enrollment_id, actor, for_update=True)
    today = uow.clock.today()
    stopped = enrollment.stop(actor.subject, uow.clock.now(), version, reason, today)
    await Repository(uow.session).update_enrollment(stopped)
    uow.emit(new_envelope(RegistrationStoppedV1(
        enrollment_id=stopped.id, person_id=stopped.person_id, office_code=stopped.office_code,
        scheme=stopped.scheme.value, stopped_on=today, reason=reason,
    ), uow.clock))  # fmt: skip
    return stopped


async def interrupt_enrollment(
    uow: UnitOfWork, enrollment_id: uuid.UUID, version: int, reason: str, last_day: date | None, actor: Principal
) -> Enrollment:
    """中断: the unit stops paying; benefits run to `last_day` (default today)."""
    enrollment = await visible_enrollment(uow, enrollment_id, actor, for_update=True)
    last = last_day or uow.clock.today()
    interrupted = enrollment.interrupt(actor.subject, uow.clock.now(), version, reason, last)
    await Repository(uow.session).update_enrollment(interrupted)
    uow.emit(new_envelope(RegistrationSuspendedV1(
        enrollment_id=interrupted.id, person_id=interrupted.person_id, office_code=interrupted.office_code,
        scheme=interrupted.scheme.value, last_covered_day=interrupted.benefit_end, reason=reason,
    ), uow.clock))  # fmt: skip
    return interrupted


async def terminate_enrollment(
    uow: UnitOfWork, enrollment_id: uuid.UUID, version: int, reason: TerminationReason, last_day: date | None,
    note: str | None, actor: Principal, person_key: bytes, counter: Counter = ONLINE_REQUEST,
) -> Enrollment:  # fmt: skip
    """终止: death, emigration, job ended …; benefits run to `last_day` (default today)."""
    enrollment = await visible_enrollment(uow, enrollment_id, actor, for_update=True)  # 404 before any other answer
    if reason is TerminationReason.death:  # the death certificate, at the counter
        handled("termination_death", actor, counter, person_key)
    terminated = enrollment.terminate(actor.subject, uow.clock.now(), version, reason, last_day or uow.clock.today(), note)
    await Repository(uow.session).update_enrollment(terminated)
    uow.emit(terminated_event(terminated, reason.value, uow))
    return terminated


def terminated_event(e: Enrollment, reason: str, uow: UnitOfWork) -> Envelope:
    return new_envelope(RegistrationTerminatedV1(
        enrollment_id=e.id, person_id=e.person_id, office_code=e.office_code, scheme=e.scheme.value,
        last_covered_day=e.benefit_end, reason=reason, reason_text=e.decisions[-1].reason or reason,
    ), uow.clock)  # fmt: skip


async def refund_enrollment(uow: UnitOfWork, enrollment_id: uuid.UUID, version: int, reason: str, actor: Principal) -> Enrollment:
    """退费: only before the benefit period starts."""
    enrollment = await visible_enrollment(uow, enrollment_id, actor, for_update=True)
    refunded = enrollment.refund(actor.subject, uow.clock.now(), version, uow.clock.today(), reason)
    await Repository(uow.session).update_enrollment(refunded)
    if enrollment.status is Status.approved:
        uow.emit(terminated_event(refunded, "refund", uow))
    return refunded


async def resume_enrollment(uow: UnitOfWork, enrollment_id: uuid.UUID, version: int, start: date | None, actor: Principal,
                            late_record: LateRecord | None = None) -> Enrollment:  # fmt: skip
    """恢复: a new coverage continues the interrupted one, unless another enrollment holds it meanwhile.
    A start before the current month is a late record (domain.backdating), as for a new employee."""
    repo = Repository(uow.session)
    enrollment = await visible_enrollment(uow, enrollment_id, actor, for_update=True)
    history = await _history_locked(repo, enrollment.person_id)
    today = uow.clock.today()
    closed, continued = enrollment.resume(actor.subject, uow.clock.now(), version, start or today)
    late = _late_record(
        working_start_is_backdated(continued.benefit_start, today), late_record, actor, uow,
        refuse_backdated("start", today.replace(day=1).isoformat(), f"恢复日期 {continued.benefit_start} 早于本月，之前各月的缴费经办机构无从核实"),
    )  # fmt: skip
    continued = replace(continued, late_record=late)
    existing = conflicting_enrollment(history, continued)
    if existing is not None:
        raise duplicate_enrollment(existing)
    await repo.update_enrollment(closed)
    await repo.add_enrollment(continued)
    uow.emit(await approved_event(continued, uow))
    return continued


async def retire_employee(uow: UnitOfWork, enrollment_id: uuid.UUID, version: int, actor: Principal) -> Enrollment:
    """在职转退休: announced again so claims applies retiree rules."""
    enrollment = await visible_enrollment(uow, enrollment_id, actor, for_update=True)
    retired = enrollment.retire(actor.subject, uow.clock.now(), version)
    await Repository(uow.session).update_enrollment(retired)
    uow.emit(await approved_event(retired, uow))
    return retired


async def enrollments_of_person(uow: UnitOfWork, person_id: uuid.UUID | None, actor: Principal) -> list[Enrollment]:
    """A person's own enrollments; staff see those of their office."""
    if actor.role is Role.insured:
        person_id = actor.person_id
    if person_id is None:
        raise Problem(422, "validation_failed", "请求参数不合法", errors=[{"field": "person_id", "message": "请提供参保人"}])
    return [e for e in await Repository(uow.session).enrollments_of(person_id) if may_see(actor, e)]


async def find_person(uow: UnitOfWork, id_type: IdType, id_number: str, actor: Principal, person_key: bytes) -> tuple[Person, list[Enrollment]]:
    """Staff search by ID number (in the request body, never in a URL)."""
    person_id = _identify(PersonDetails(id_type, id_number, "-"), actor.office_code or "", person_key).id
    repo = Repository(uow.session)
    person = await repo.get_person(person_id)
    found = [e for e in await repo.enrollments_of(person_id) if may_see(actor, e)]
    if person is None or not (found or serves_code(actor, person.office_code)):
        raise not_found("参保人")
    return person, found


# Units ------------------------------------------------------------------------------------------------


async def register_unit(
    uow: UnitOfWork, code: str, name: str, legal_representative: str, office_code: str, actor: Principal, person_key: bytes,
    counter: Counter = ONLINE_REQUEST,
) -> Unit:  # fmt: skip
    """单位参保登记: immediate; by the unit in the employer web hall or by staff at the counter."""
    handling = handled("unit_enrollment", actor, counter, person_key)
    unit = new_unit(code, name, legal_representative, office_code, actor.subject, uow.clock.now(), handling)
    if actor.role is Role.unit and actor.unit_id != unit.code:
        raise Problem(403, "not_own_unit", "只能为本单位办理参保登记")
    case_office(office_code, actor)
    repo = Repository(uow.session)
    if await repo.get_unit(unit.code) is not None:
        raise Problem(409, "unit_exists", "该单位已参保登记", f"统一社会信用代码 {unit.code} 已登记")
    await repo.add_unit(unit)
    return unit


def may_see_unit(actor: Principal, unit: Unit) -> bool:
    if actor.role is Role.unit:
        return actor.unit_id == unit.code
    return serves_code(actor, unit.office_code) or actor.role is Role.admin


async def visible_unit(uow: UnitOfWork, code: str, actor: Principal, for_update: bool = False) -> Unit:
    unit = await Repository(uow.session).get_unit(code, for_update=for_update)
    if unit is None or not may_see_unit(actor, unit):
        raise not_found("参保单位")
    return unit


async def change_unit(uow: UnitOfWork, code: str, change: UnitChange, version: int, actor: Principal) -> Unit:
    """单位变更登记: suspension, cancellation, split, merger, or a change of name, code, representative."""
    repo = Repository(uow.session)
    unit = await visible_unit(uow, code, actor, for_update=True)
    if change.kind in (ChangeKind.split, ChangeKind.merge):
        await _require_related_units(repo, change)
    holding = [s.value for s in HOLDS_COVERAGE]
    if change.kind is ChangeKind.cancel and (active := await repo.count_employees(unit.code, holding)):
        raise Problem(409, "unit_has_employees", "单位尚有参保职工，不能注销", f"尚有 {active} 名职工在保，请先办理减员或中断")
    if change.kind is ChangeKind.credit_code and change.after and await repo.get_unit(change.after.strip().upper()):
        raise Problem(409, "unit_exists", "该统一社会信用代码已被其他单位使用")
    changed = unit.apply(replace(change, before=_before(unit, change.kind)), version)
    await repo.update_unit(changed, previous_code=unit.code)
    if change.kind is ChangeKind.merge:  # 合并: the absorbed unit's employees continue at the successor
        await repo.move_employees(unit.code, change.related_units[0], holding)
    return changed


def _before(unit: Unit, kind: ChangeKind) -> str | None:
    return {ChangeKind.name: unit.name, ChangeKind.credit_code: unit.code, ChangeKind.legal_representative: unit.legal_representative}.get(kind)


async def _require_related_units(repo: Repository, change: UnitChange) -> None:
    expected = "1" if change.kind is ChangeKind.merge else "1 个以上"
    if not change.related_units or (change.kind is ChangeKind.merge and len(change.related_units) != 1):
        raise Problem(422, "validation_failed", "请求参数不合法", errors=[{"field": "related_units", "message": f"须填写 {expected} 个相关单位"}])
    for code in change.related_units:
        related = await repo.get_unit(code)
        if related is None or related.status is not UnitStatus.active:
            raise Problem(422, "related_unit_unknown", "相关单位未参保登记或已注销", f"单位 {code} 须先办理参保登记",
                          errors=[{"field": "related_units", "message": f"{code} 不是有效的参保单位"}])  # fmt: skip


async def employees_of_unit(uow: UnitOfWork, code: str, statuses: list[str] | None, offset: int, limit: int, actor: Principal) -> tuple[list[Enrollment], int]:
    unit = await visible_unit(uow, code, actor)
    return await Repository(uow.session).employees_of(unit.code, statuses, offset, limit)


async def record_transfer_completed(uow: UnitOfWork, envelope: Envelope, event: TransferCompletedV1) -> None:
    """转入办结: the contribution history and balance from the other region join the person's record."""
    await Repository(uow.session).record_transferred_contributions({
        "transfer_id": event.transfer_id, "person_id": event.person_id, "office_code": event.office_code,
        "from_office": event.from_office, "contribution_months": event.contribution_months,
        "account_balance": event.account_balance, "completed_on": event.completed_on,
    })  # fmt: skip


async def record_certificate(uow: UnitOfWork, envelope: Envelope, event: TransferCertificateIssuedV1) -> None:
    """参保凭证 issued (or reissued) by transfer: shown on the person's record."""
    values = event.model_dump(include={"number", "person_id", "office_code", "scheme", "issued_on", "coverage_ended_on",
                                       "contribution_months", "account_balance", "arrears"})  # fmt: skip
    await Repository(uow.session).record_certificate({**values, "reissues": 1 if event.reissue else 0}, event.reissue)


async def certificates_of_person(uow: UnitOfWork, person_id: uuid.UUID | None, actor: Principal) -> list[dict]:
    enrollments = await enrollments_of_person(uow, person_id, actor)
    if actor.role is not Role.insured and not enrollments:
        raise not_found("参保人")
    return await Repository(uow.session).certificates_of(actor.person_id if actor.role is Role.insured else person_id)  # type: ignore[arg-type]


async def contribution_history(uow: UnitOfWork, person_id: uuid.UUID | None, actor: Principal) -> list[dict]:
    """The contribution periods transferred in, for the person or staff who see one of their enrollments."""
    enrollments = await enrollments_of_person(uow, person_id, actor)
    person = actor.person_id if actor.role is Role.insured else person_id
    if actor.role is not Role.insured and not enrollments:
        raise not_found("参保人")
    return await Repository(uow.session).transferred_contributions_of(person)  # type: ignore[arg-type]


async def record_transferred_out(uow: UnitOfWork, envelope: Envelope, event: TransferTransferredOutV1) -> None:
    repo = Repository(uow.session)
    for enrollment in await repo.stopped_enrollments(event.person_id):
        await repo.update_enrollment(enrollment.transfer_out("transfer", uow.clock.now(), event.to_office))


async def record_facility(uow: UnitOfWork, envelope: Envelope, event: FacilityDesignatedV1) -> None:
    """facility.designated / updated / suspended / terminated → the local registry projection."""
    await Repository(uow.session).record_facility_if_newer(
        KnownFacility(
            code=event.code,
            name=event.name,
            kind=event.kind,
            level=event.level,
            office_code=event.office_code,
            programmes=frozenset(event.programmes),
            status=event.status,
            version=event.version,
        )
    )


async def _covered_today(repo: Repository, person_id: uuid.UUID, today: date, actor: Principal, scheme: str | None) -> Enrollment:
    """The coverage the registration rests on; a hospital registering its patient learns only that it exists."""
    enrollment = await repo.approved_enrollment_covering(person_id, today, scheme)
    if enrollment is not None and (may_see(actor, enrollment) or actor.role is Role.facility):
        return enrollment
    if actor.role is not Role.facility and not await _may_see_person(repo, actor, person_id):
        raise not_found("参保人")  # another office's person: as if unknown, before saying they have no coverage
    what = "城乡居民医保" if scheme == "resident" else "基本医疗保险"
    raise Problem(409, "no_coverage", f"无有效的{what}参保登记", f"{today} 不在{what}待遇享受期内")


async def _may_see_person(repo: Repository, actor: Principal, person_id: uuid.UUID) -> bool:
    """The person is within the caller's reach: themselves, an employee of the unit, a person of the clerk's office."""
    if actor.role is Role.insured:
        return actor.person_id == person_id
    if actor.role is Role.admin:
        return True
    if any(may_see(actor, e) for e in await repo.enrollments_of(person_id)):
        return True
    person = await repo.get_person(person_id) if actor.role is Role.staff else None
    return person is not None and serves_code(actor, person.office_code)


async def _activate(uow: UnitOfWork, repo: Repository, registration: BenefitRegistration, current: BenefitRegistration | None) -> BenefitRegistration:
    """The new registration replaces the active one of its kind from today, and is announced."""
    if current is not None:
        await repo.save_benefit(current.replaced_with(registration))
    await repo.save_benefit(registration)
    uow.emit(
        new_envelope(
            RegistrationBenefitRegisteredV1(
                registration_id=registration.id,
                person_id=registration.person_id,
                office_code=registration.office_code,
                kind=registration.kind,
                facility_codes=list(registration.facility_codes),
                valid_from=registration.valid_from,
                valid_to=registration.valid_to,
                replaces=current.id if current else None,
                details=registration.details,
            ),
            uow.clock,
        )
    )
    return registration


async def _coverage(repo: Repository, person_id: uuid.UUID, day: date, actor: Principal, kind: str, scheme: str | None = None) -> Enrollment:
    """The coverage a registration of `kind` rests on. Staff of any office handle the items the catalogue
    marks 全市通办 (domain.benefit_items); the registration still belongs to the person's office."""
    if actor.role is Role.staff and handled_citywide(kind):
        enrollment = await repo.approved_enrollment_covering(person_id, day, scheme)
        if enrollment is not None and in_clerks_city(actor, enrollment.office_code):
            return enrollment
    return await _covered_today(repo, person_id, day, actor, scheme)


def _valid_on(registration: BenefitRegistration | None, day: date) -> bool:
    """Active and not past its end (the expiry job may not have run yet today)."""
    return registration is not None and (registration.valid_to is None or registration.valid_to >= day)


async def register_resident_outpatient(
    uow: UnitOfWork, person_id: uuid.UUID | None, hospital_code: str, actor: Principal
) -> BenefitRegistration:
    """城乡居民门(急)诊就医登记: a resident covered today chooses one reformed level-2 hospital."""
    repo = Repository(uow.session)
    person_id = _person_acted_for(actor, person_id)
    today = uow.clock.today()
    enrollment = await _coverage(repo, person_id, today, actor, RESIDENT_OUTPATIENT, "resident")
    registration = choose_resident_outpatient_hospital(
        person_id, enrollment.office_code, await repo.get_facility(hospital_code), hospital_code, today, actor.subject, uow.clock.now()
    )
    return await _activate(uow, repo, registration, await repo.active_benefit(person_id, RESIDENT_OUTPATIENT))


async def register_special_disease(
    uow: UnitOfWork,
    person_id: uuid.UUID | None,
    disease: str,
    certified_by: str,
    treatment_facility: str,
    certified_outside_city: bool,
    actor: Principal,
) -> BenefitRegistration:
    """门特登记: a certification for one of the 13 diseases, with the chosen treatment hospital or pharmacy."""
    repo = Repository(uow.session)
    person_id = _person_acted_for(actor, person_id)
    today = uow.clock.today()
    enrollment = await _coverage(repo, person_id, today, actor, SPECIAL_DISEASE)
    registration = certify_special_disease(
        person_id, enrollment.office_code, disease,
        await repo.get_facility(certified_by), certified_by,
        await repo.get_facility(treatment_facility), treatment_facility,
        certified_outside_city, today, actor.subject, uow.clock.now(),
    )  # fmt: skip
    return await _activate(uow, repo, registration, await repo.active_benefit(person_id, SPECIAL_DISEASE, disease=disease))


async def change_treatment_facility(
    uow: UnitOfWork, registration_id: uuid.UUID, treatment_facility: str, actor: Principal
) -> BenefitRegistration:
    """门特治疗医院、药店变更 (unlimited)."""
    repo = Repository(uow.session)
    current = await visible_benefit(uow, registration_id, actor)
    changed = with_treatment_facility(
        current, await repo.get_facility(treatment_facility), treatment_facility, uow.clock.today(), actor.subject, uow.clock.now()
    )
    locked = await repo.active_benefit(current.person_id, SPECIAL_DISEASE, disease=current.details["disease"])
    if locked is None or locked.id != current.id:
        raise Problem(409, "invalid_transition", "该门特登记已被变更或失效", "请刷新后重试")
    return await _activate(uow, repo, changed, locked)


def _person_acted_for(actor: Principal, person_id: uuid.UUID | None) -> uuid.UUID:
    if actor.role is Role.insured:
        if person_id not in (None, actor.person_id) or actor.person_id is None:
            raise Problem(403, "not_own_identity", "只能为本人办理")
        return actor.person_id
    if person_id is None:
        raise Problem(422, "validation_failed", "请求参数不合法", errors=[{"field": "body.person_id", "message": "经办人员代办时必须提供参保人"}])
    return person_id


async def visible_benefit(uow: UnitOfWork, registration_id: uuid.UUID, actor: Principal) -> BenefitRegistration:
    registration = await Repository(uow.session).get_benefit(registration_id)
    visible = registration is not None and (
        (actor.role is Role.insured and actor.person_id == registration.person_id)
        or serves_code(actor, registration.office_code)
        or actor.role is Role.admin
    )
    if not visible:
        raise not_found("待遇登记")
    return registration  # type: ignore[return-value]


async def list_benefits(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None, kind: str | None, status: str | None, offset: int, limit: int
) -> tuple[list[BenefitRegistration], int]:
    """An insured person's own registrations (asking for another's is refused); staff those of their
    office (city staff: every office), of one person if given."""
    office = None
    if actor.role is Role.insured:
        person_id = _person_acted_for(actor, person_id)
    elif actor.role is Role.staff and not actor.is_city_staff:
        office = actor.office_code or ""
    return await Repository(uow.session).benefits_page(person_id, office, kind, status, offset, limit)


async def file_remote_care(
    uow: UnitOfWork, person_id: uuid.UUID | None, kind: RemoteKind, destination: str, category: LongTermCategory | None,
    reason: TripReason | None, commitment: bool, actor: Principal,
) -> BenefitRegistration:  # fmt: skip
    """异地就医备案: the new filing of a kind (long-term, or this trip) replaces the active one."""
    repo = Repository(uow.session)
    person_id = _person_acted_for(actor, person_id)
    today = uow.clock.today()
    enrollment = await _coverage(repo, person_id, today, actor, REMOTE_CARE)
    filing = remote_care_filing(
        person_id, enrollment.office_code, kind, destination, category, reason, commitment, today, actor.subject, uow.clock.now()
    )
    return await _activate(uow, repo, filing, await repo.active_benefit(person_id, REMOTE_CARE, remote_kind=kind.value))


async def expire_benefits(uow: UnitOfWork, batch: int = 200) -> int:
    """Registrations past their last valid day become expired and registration.benefit_expired is raised once."""
    repo = Repository(uow.session)
    today = uow.clock.today()
    due = await repo.benefits_due_to_expire(today, batch)
    for registration in due:
        await repo.save_benefit(registration.expired())
        uow.emit(new_envelope(RegistrationBenefitExpiredV1(
            registration_id=registration.id, person_id=registration.person_id, office_code=registration.office_code,
            kind=registration.kind, expired_on=registration.valid_to + timedelta(days=1), details=registration.details,
        ), uow.clock))  # fmt: skip
    return len(due)


# Other benefit registrations (domain.care_registrations, domain.maternity) ----------------------------------


def _own_facility(actor: Principal, code: str, field_name: str) -> None:
    """A hospital registers its own patients only (online registration by the facility, 联网登记)."""
    if actor.role is Role.facility and actor.facility_id != code:
        raise Problem(403, "not_own_facility", "只能为本机构的就医人员办理登记", errors=[{"field": field_name, "message": "须为本机构"}])


async def _covered_subject(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None, kind: str
) -> tuple[Repository, uuid.UUID, date, Enrollment]:
    repo = Repository(uow.session)
    person = _person_acted_for(actor, person_id)
    today = uow.clock.today()
    return repo, person, today, await _coverage(repo, person, today, actor, kind)


async def issue_hospitalization_letter(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None, request: LetterRequest
) -> BenefitRegistration:
    """住院资格确认书: one per stay (letters do not replace each other)."""
    _own_facility(actor, request.hospital_code, "hospital_code")
    repo, person, today, enrollment = await _covered_subject(uow, actor, person_id, HOSPITALIZATION)
    valid_to, details = hospitalization_letter(request, await repo.get_facility(request.hospital_code), today)
    letter = care_registration(person, enrollment.office_code, HOSPITALIZATION, (request.hospital_code,), today, valid_to,
                               actor.subject, uow.clock.now(), **details)  # fmt: skip
    return await _activate(uow, repo, letter, None)


async def register_tb(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None, hospital_code: str | None, drug_resistant: bool,
                      remote_patient: bool, remote_hospital: tuple[str, str] | None, diagnosis_level: int | None) -> BenefitRegistration:  # fmt: skip
    """肺结核门诊登记: a TB hospital here (the hospital online, the person or staff), or for a remote patient
    (at the sub-centre only) a hospital of their remote-care filing."""
    tb_choice_given(remote_patient, hospital_code, remote_hospital)
    if remote_patient and actor.role is not Role.staff:
        raise Problem(403, "at_sub_centre", "异地患者须到医保分中心办理肺结核登记", errors=[{"field": "remote_patient", "message": "请到医保分中心办理"}])
    if hospital_code is not None:
        _own_facility(actor, hospital_code, "hospital_code")
    repo, person, today, enrollment = await _covered_subject(uow, actor, person_id, TB)
    if remote_patient:
        tb_remote_patient(diagnosis_level)
        if not _valid_on(await repo.active_benefit(person, REMOTE_CARE), today):
            raise Problem(409, "remote_care_filing_required", "异地患者须先办理异地就医备案",
                          errors=[{"field": "remote_patient", "message": "无有效的异地就医备案"}])  # fmt: skip
        code, name = remote_hospital  # type: ignore[misc]
        facilities, where = (code,), {"remote_hospital": {"code": code, "name": name}, "diagnosis_hospital_level": diagnosis_level}
    else:
        tb_local_hospital(await repo.get_facility(hospital_code), hospital_code)  # type: ignore[arg-type]
        facilities, where = (hospital_code,), {}  # type: ignore[assignment]
    chosen = care_registration(person, enrollment.office_code, TB, facilities, today, None, actor.subject, uow.clock.now(),
                               drug_resistant=drug_resistant, remote_patient=remote_patient, **where)  # fmt: skip
    return await _activate(uow, repo, chosen, await repo.active_benefit(person, TB))


async def register_sars_hospitals(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None, infection: SarsInfection,
                                  hospital_codes: list[str]) -> BenefitRegistration:  # fmt: skip
    repo, person, today, enrollment = await _covered_subject(uow, actor, person_id, SARS)
    sars_hospitals(infection, [(code, await repo.get_facility(code)) for code in hospital_codes])
    chosen = care_registration(person, enrollment.office_code, SARS, tuple(hospital_codes), today, None, actor.subject, uow.clock.now(),
                               infection=infection.value)  # fmt: skip
    return await _activate(uow, repo, chosen, await repo.active_benefit(person, SARS))


async def flag_deputy_director(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, appointment_document: str) -> BenefitRegistration:
    """副司局级标识: the unit of the person's employee coverage sets it (staff of the person's office as well)."""
    repo = Repository(uow.session)
    today = uow.clock.today()
    enrollment = await _coverage(repo, person_id, today, actor, DEPUTY_DIRECTOR, "employee")
    flag = care_registration(person_id, enrollment.office_code, DEPUTY_DIRECTOR, (), today, None, actor.subject, uow.clock.now(),
                             appointment_document=appointment_document, unit_code=enrollment.unit_code)  # fmt: skip
    return await _activate(uow, repo, flag, await repo.active_benefit(person_id, DEPUTY_DIRECTOR))


async def register_lost_receipt(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None, facility_code: str, receipt_no: str,
                                service_date: date, amount: Decimal, certified_copy_no: str) -> BenefitRegistration:  # fmt: skip
    """遗失票据登记: the coverage of the service date decides the deadline (employees or residents)."""
    repo = Repository(uow.session)
    person = _person_acted_for(actor, person_id)
    today = uow.clock.today()
    not_after(service_date, today, "service_date")
    require_designated(await repo.get_facility(facility_code), facility_code, "facility_code")
    enrollment = await _coverage(repo, person, service_date, actor, LOST_RECEIPT)
    deadline = require_lost_receipt_in_time(enrollment.scheme.value, service_date, enrollment.benefit_end, today)
    receipt = care_registration(person, enrollment.office_code, LOST_RECEIPT, (facility_code,), today, None, actor.subject, uow.clock.now(),
                                receipt_no=receipt_no, service_date=service_date.isoformat(), amount=money_text(amount),
                                certified_copy_no=certified_copy_no, scheme=enrollment.scheme.value, deadline=deadline.isoformat())  # fmt: skip
    return await _activate(uow, repo, receipt, None)


async def register_pregnancy(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None, last_menstrual_period: date | None,
                             started_on: date | None, delivered_on: date | None, facility_code: str | None) -> BenefitRegistration:  # fmt: skip
    """妊娠登记: by the primary-care maternity facility (its own code), the person in the app, or staff."""
    start, dated_by = pregnancy_start(last_menstrual_period, started_on)
    if actor.role is Role.facility:
        facility_code = facility_code or actor.facility_id
        _own_facility(actor, facility_code or "", "facility_code")
    repo, person, today, enrollment = await _covered_subject(uow, actor, person_id, PREGNANCY)
    if facility_code is not None:
        require_maternity_hospital(await repo.get_facility(facility_code), facility_code, "facility_code")
    valid_to, late = pregnancy(start, delivered_on, today)
    registered = care_registration(person, enrollment.office_code, PREGNANCY, (facility_code,) if facility_code else (), today, valid_to,
                                   actor.subject, uow.clock.now(), pregnancy_started_on=start.isoformat(), dated_by=dated_by, late=late)  # fmt: skip
    return await _activate(uow, repo, registered, await repo.active_benefit(person, PREGNANCY))


async def register_maternity_remote(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None, category: MaternityRemoteCategory,
                                    facilities: list[tuple[str, str]]) -> BenefitRegistration:  # fmt: skip
    if category is MaternityRemoteCategory.remote_worker and actor.role is Role.insured:
        raise Problem(403, "unit_files", "常驻异地工作人员由用人单位办理", errors=[{"field": "category", "message": "请由单位办理"}])
    if actor.role is Role.unit:
        unit_files_only_remote_workers(category)
    maternity_remote_facilities(facilities)
    repo, person, today, enrollment = await _covered_subject(uow, actor, person_id, MATERNITY_REMOTE)
    chosen = care_registration(person, enrollment.office_code, MATERNITY_REMOTE, tuple(code for code, _ in facilities), today, None,
                               actor.subject, uow.clock.now(), category=category.value,
                               facilities=[{"code": code, "name": name} for code, name in facilities])  # fmt: skip
    return await _activate(uow, repo, chosen, await repo.active_benefit(person, MATERNITY_REMOTE))


async def register_maternity_hospitalization(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None, hospital_code: str,
                                             stay: MaternityStay, admission_document: AdmissionDocument) -> BenefitRegistration:  # fmt: skip
    """生育保险住院登记: rests on the pregnancy (or complication) registration valid today and lasts as long."""
    _own_facility(actor, hospital_code, "hospital_code")
    repo, person, today, enrollment = await _covered_subject(uow, actor, person_id, MATERNITY_HOSPITALIZATION)
    require_maternity_hospital(await repo.get_facility(hospital_code), hospital_code, "hospital_code")
    basis = await repo.active_benefit(person, stay_basis(stay))
    if not _valid_on(basis, today):
        raise missing_basis(stay)
    registered = care_registration(person, enrollment.office_code, MATERNITY_HOSPITALIZATION, (hospital_code,), today, basis.valid_to,  # type: ignore[union-attr]
                                   actor.subject, uow.clock.now(), reason=stay.value, admission_document=admission_document.value,
                                   based_on=str(basis.id), based_on_kind=basis.kind)  # type: ignore[union-attr]  # fmt: skip
    return await _activate(uow, repo, registered, None)


async def register_fp_complication(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None, certified_on: date,
                                   certificate_no: str) -> BenefitRegistration:  # fmt: skip
    repo, person, today, enrollment = await _covered_subject(uow, actor, person_id, FP_COMPLICATION)
    opens, closes = require_fp_window(certified_on, today)
    registered = care_registration(person, enrollment.office_code, FP_COMPLICATION, (), today, closes, actor.subject, uow.clock.now(),
                                   certified_on=certified_on.isoformat(), certificate_no=certificate_no,
                                   window_opens=opens.isoformat(), window_closes=closes.isoformat())  # fmt: skip
    return await _activate(uow, repo, registered, await repo.active_benefit(person, FP_COMPLICATION))


async def register_maternity_referral(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None, sending: str, receiving: str,
                                      referral_form_no: str | None) -> BenefitRegistration:  # fmt: skip
    """转诊转院登记: the sending hospital online, or the sub-centre with the hospital's paper form."""
    _own_facility(actor, sending, "sending_hospital")
    repo, person, today, enrollment = await _covered_subject(uow, actor, person_id, MATERNITY_REFERRAL)
    at_sub_centre = actor.role is not Role.facility
    maternity_referral(await repo.get_facility(sending), sending, await repo.get_facility(receiving), receiving, at_sub_centre, referral_form_no)
    referral = care_registration(person, enrollment.office_code, MATERNITY_REFERRAL, (sending, receiving), today, None,
                                 actor.subject, uow.clock.now(), sending_hospital=sending, receiving_hospital=receiving,
                                 referral_form_no=referral_form_no, channel="sub_centre" if at_sub_centre else "online")  # fmt: skip
    return await _activate(uow, repo, referral, None)
