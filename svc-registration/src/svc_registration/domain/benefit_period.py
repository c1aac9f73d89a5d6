"""Benefit periods (待遇享受期) by the rules of seeds 001/003 (docs/domain/registration.md):

- Residents enroll for next year from 1 Sep to 31 Dec and are covered 1 Jan – 31 Dec of that year.
- Late payment until 30 June of the year itself: with coverage the previous year, benefits start on
  the 1st of the month after payment; without, on the 1st of the 4th month (the payment month is the
  1st).
- New pupils of the autumn collective filing are covered from 1 Sep of this year as well.
- A newborn paid within 4 months of birth is covered from birth, later from the day after payment;
  newborns enroll within one year of birth, at any time of the year.
- A person whose employee insurance ended is covered from the day after payment.
- Employees are covered from the day the unit enrolls them; flexible employment from the day after
  payment, as a person whose job ended (the seeds give no other rule for them).

Every period of a resident ends on 31 Dec of the coverage year. Employee periods are open-ended:
they end when the unit interrupts or terminates the enrollment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from shared.errors import Invalid
from shared.months import add_months

ENROLLMENT_OPENS = (9, 1)  # 集中参保期 1 Sep – 31 Dec of the year before coverage
LATE_ENROLLMENT_ENDS = (6, 30)  # 补缴 until 30 June of the coverage year
NEWBORN_FROM_BIRTH_MONTHS = 4
NEWBORN_WINDOW_MONTHS = 12


@dataclass(frozen=True)
class Period:
    start: date
    end: date | None  # None: open-ended (employee coverage runs until interrupted)
    rule: str  # machine code of the rule that gave it
    explanation: str  # the rule in words, for the person

    def overlaps(self, other: Period) -> bool:
        return (other.end is None or self.start <= other.end) and (
            self.end is None or other.start <= self.end
        )


def first_of_month(day: date, months_later: int) -> date:
    return add_months(day.replace(day=1), months_later)


def resident_period(
    coverage_year: int,
    paid_on: date,
    *,
    covered_previous_year: bool,
    birth_date: date | None = None,
    autumn_pupil: bool = False,
    after_employee_coverage: bool = False,
) -> Period:
    """The benefit period of a resident enrollment for `coverage_year` paid on `paid_on`."""
    year_end = date(coverage_year, 12, 31)
    if birth_date is not None and paid_on <= add_months(birth_date, NEWBORN_WINDOW_MONTHS):
        return _newborn_period(coverage_year, paid_on, birth_date)
    if after_employee_coverage and paid_on.year == coverage_year:
        return Period(
            paid_on + timedelta(days=1),
            year_end,
            "after_employee_coverage",
            "职工医保终止后参加居民医保：缴费次日起享受待遇",
        )
    opens = date(coverage_year - 1, *ENROLLMENT_OPENS)
    late_until = date(coverage_year, *LATE_ENROLLMENT_ENDS)
    if opens <= paid_on < date(coverage_year, 1, 1):
        if autumn_pupil and not covered_previous_year:
            return Period(opens, year_end, "autumn_pupil", "秋季入学新生集中参保：当年9月1日至次年12月31日")
        return Period(date(coverage_year, 1, 1), year_end, "regular", "集中参保期缴费：次年1月1日至12月31日")
    if date(coverage_year, 1, 1) <= paid_on <= late_until:
        if covered_previous_year:
            return Period(
                first_of_month(paid_on, 1),
                year_end,
                "late_continuing",
                "上年度已参保、6月30日前补缴：缴费次月起享受待遇",
            )
        return Period(
            first_of_month(paid_on, 3),
            year_end,
            "late_new",
            "上年度未参保、6月30日前补缴：缴费当月为第1个月，第4个月起享受待遇",
        )
    raise Invalid(
        "enrollment_period_closed",
        "不在参保缴费期内",
        f"{coverage_year} 年度居民医保集中参保期为 {opens} 至 {coverage_year - 1}-12-31，补缴截至 {late_until}；缴费日期 {paid_on} 不在期内",
        errors=[{"field": "coverage_year", "message": "该年度不在参保缴费期内"}],
    )


def _newborn_period(coverage_year: int, paid_on: date, birth_date: date) -> Period:
    if paid_on < birth_date:
        raise Invalid(
            "paid_before_birth",
            "缴费日期早于出生日期",
            errors=[{"field": "paid_on", "message": "缴费日期早于出生日期"}],
        )
    if coverage_year != paid_on.year:
        raise Invalid("newborn_coverage_year", "新生儿参保年度应为缴费当年", f"缴费日期 {paid_on}，参保年度应为 {paid_on.year}",
                      errors=[{"field": "coverage_year", "message": f"应为 {paid_on.year}"}])  # fmt: skip
    year_end = date(coverage_year, 12, 31)
    if paid_on <= add_months(birth_date, NEWBORN_FROM_BIRTH_MONTHS):
        return Period(
            birth_date, year_end, "newborn_within_4_months", "新生儿出生后4个月内缴费：自出生之日起享受待遇"
        )
    return Period(
        paid_on + timedelta(days=1),
        year_end,
        "newborn_after_4_months",
        "新生儿出生4个月后缴费：缴费次日起享受待遇",
    )


def employee_period(start: date) -> Period:
    return Period(start, None, "employee", "职工医保：单位参保登记之日起享受待遇，至中断或终止")


def flexible_period(paid_on: date) -> Period:
    return Period(
        paid_on + timedelta(days=1), None, "flexible", "灵活就业人员参保：缴费次日起享受待遇，至中断或终止"
    )
