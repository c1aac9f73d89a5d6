"""The drive's pure rules: list rows checked whole, findings, and coverage against the targets."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import Problem
from shared.testing.e2e import new_resident_id
from svc_registration.domain.benefit_period import Period, employee_period
from svc_registration.domain.enrollment import Category as Job
from svc_registration.domain.enrollment import (
    ResidentTier,
    Status,
    new_employee_enrollment,
    new_resident_enrollment,
)
from svc_registration.domain.enrollment_drive import (
    Category,
    Finding,
    ListedPerson,
    ListKind,
    classify,
    coverage,
    listed_persons,
    parse_list,
)

AT = datetime(2021, 3, 1, tzinfo=UTC)
TARGETS = Path(__file__).parents[2] / "src/svc_registration/data/drive/jinghai-2021-targets.json"


def test_the_jinghai_targets_add_up_to_the_seed_totals() -> None:
    data = json.loads(TARGETS.read_text(encoding="utf-8"))
    assert data["office_code"] == "120118" and len(data["townships"]) == 19
    totals = {c: sum(t["targets"][c] for t in data["townships"]) for c in ("general", "students", "special")}
    assert totals == {"general": 321376, "students": 115610, "special": 24577}
    assert sum(totals.values()) == 461563


def test_a_good_list_parses_and_a_bad_one_is_refused_whole_without_echoing_id_numbers() -> None:
    good = new_resident_id("120118")
    rows = parse_list(ListKind.deaths, f"\ufeffid_number,name,death_date\n{good},王某,2021-05-03\n")
    assert rows[0].death_date == date(2021, 5, 3) and rows[0].row == 2
    bad_number = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(Problem) as refused:
        parse_list(ListKind.deaths, f"id_number,name,death_date\n{good},王某,2021-05-03\n{bad_number},,5月3日\n")
    problem = refused.value
    assert problem.code == "list_rows_invalid"
    assert {(e["row"], e["field"]) for e in problem.errors} == {(3, "id_number"), (3, "name"), (3, "death_date")}
    assert bad_number not in str(problem.errors)


def test_missing_columns_are_named() -> None:
    with pytest.raises(Problem) as refused:
        parse_list(ListKind.resident_population, "id_number,name\n")
    assert {e["field"] for e in refused.value.errors} == {"file.township_code", "file.township_name"}


def resident(person: uuid.UUID, office: str = "120118", status: Status = Status.approved):  # type: ignore[no-untyped-def]
    e = new_resident_enrollment(person, office, ResidentTier.adult_low, 2021, Period(date(2021, 1, 1), date(2021, 12, 31), "regular", ""),
                                date(2020, 10, 1), (), "c", AT)  # fmt: skip
    return replace(e, status=status)


def test_findings() -> None:
    person, day = uuid.uuid4(), date(2021, 6, 1)
    assert classify(ListKind.students, [], day) is Finding.unenrolled
    assert classify(ListKind.students, [resident(person, status=Status.rejected)], day) is Finding.unenrolled
    assert classify(ListKind.students, [resident(person)], day) is Finding.enrolled
    job = new_employee_enrollment(person, "91120101MA05K8Q4X9", "120101", date(2021, 2, 1), Job.in_service, "u", AT)
    assert classify(ListKind.tax_payments, [resident(person), job], day) is Finding.duplicate
    assert classify(ListKind.tax_payments, [resident(person), resident(person, "120101", Status.submitted)], day) is Finding.duplicate
    assert classify(ListKind.deaths, [resident(person)], day) is Finding.dead
    assert employee_period(date(2021, 2, 1)).end is None


def test_a_person_on_several_lists_counts_once_in_the_most_specific_category() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    listed = listed_persons({
        ListKind.resident_population: [(a, "01"), (b, "02")],
        ListKind.subsistence: [(a, None)],
        ListKind.students: [(b, "03")],
    })  # fmt: skip
    assert sorted(listed, key=lambda p: p.category) == sorted(
        [ListedPerson(a, Category.special, "01"), ListedPerson(b, Category.students, "03")], key=lambda p: p.category
    )


def test_coverage_against_targets() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    targets = [{"code": "01", "name": "静海镇", "targets": {"general": 3, "students": 0, "special": 1}}]
    listed = [ListedPerson(a, Category.general, "01"), ListedPerson(b, Category.general, "01"), ListedPerson(c, Category.special, "99")]
    townships, totals = coverage(targets, listed, {a, c})
    first = townships[0].cells
    assert (first[Category.general].target, first[Category.general].listed, first[Category.general].covered) == (3, 2, 1)
    assert str(first[Category.general].rate) == "33.3" and first[Category.students].rate is None
    assert townships[1].name == "（指标外）" and townships[1].cells[Category.special].covered == 1
    assert (totals[Category.general].covered, totals[Category.special].target, totals[Category.special].covered) == (1, 1, 1)


@given(st.lists(st.tuples(st.sampled_from(list(Category)), st.sampled_from(["01", "02", "03"]), st.booleans()), max_size=60))
def test_covered_never_exceeds_listed_and_totals_are_the_sums(people: list[tuple[Category, str, bool]]) -> None:
    listed = [ListedPerson(uuid.uuid4(), category, township) for category, township, _ in people]
    covered = {p.person_id for p, (_, _, yes) in zip(listed, people) if yes}
    targets = [{"code": code, "name": code, "targets": {"general": 5, "students": 5, "special": 5}} for code in ("01", "02")]
    townships, totals = coverage(targets, listed, covered)
    for category in Category:
        assert totals[category].listed == sum(t.cells[category].listed for t in townships)
        assert totals[category].covered == sum(t.cells[category].covered for t in townships) <= totals[category].listed
    assert sum(t.listed for t in totals.values()) == len(listed)
