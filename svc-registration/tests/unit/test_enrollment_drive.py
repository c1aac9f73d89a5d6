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

from shared.errors import DomainError
from shared.testing.e2e import new_resident_id
from svc_registration.domain import enrollment_drive
from svc_registration.domain.benefit_period import Period, employee_period
from svc_registration.domain.enrollment import Category as Job
from svc_registration.domain.enrollment import (
    ResidentTier,
    Status,
    new_employee_enrollment,
    new_resident_enrollment,
)
from svc_registration.domain.enrollment_drive import (
    CATEGORY_OF,
    UNKNOWN_TOWNSHIP,
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
    with pytest.raises(DomainError) as refused:
        parse_list(
            ListKind.deaths, f"id_number,name,death_date\n{good},王某,2021-05-03\n{bad_number},,5月3日\n"
        )
    problem = refused.value
    assert problem.code == "list_rows_invalid"
    assert {(e["row"], e["field"]) for e in problem.errors} == {
        (3, "id_number"),
        (3, "name"),
        (3, "death_date"),
    }
    assert bad_number not in str(problem.errors)


def test_missing_columns_are_named() -> None:
    with pytest.raises(DomainError) as refused:
        parse_list(ListKind.resident_population, "id_number,name\n")
    assert {e["field"] for e in refused.value.errors} == {"file.township_code", "file.township_name"}


def resident(person: uuid.UUID, office: str = "120118", status: Status = Status.approved, year: int = 2021):  # type: ignore[no-untyped-def]
    e = new_resident_enrollment(person, office, ResidentTier.adult_low, year, Period(date(year, 1, 1), date(year, 12, 31), "regular", ""),
                                date(year - 1, 10, 1), (), "c", AT)  # fmt: skip
    return replace(e, status=status)


def test_findings() -> None:
    person, day = uuid.uuid4(), date(2021, 6, 1)
    assert classify(ListKind.students, [], day) is Finding.unenrolled
    assert classify(ListKind.students, [resident(person, status=Status.rejected)], day) is Finding.unenrolled
    assert classify(ListKind.students, [resident(person)], day) is Finding.enrolled
    job = new_employee_enrollment(
        person, "91120101MA05K8Q4X9", "120101", date(2021, 2, 1), Job.in_service, "u", AT
    )
    assert classify(ListKind.tax_payments, [resident(person), job], day) is Finding.duplicate
    assert (
        classify(ListKind.tax_payments, [resident(person), resident(person, "120101", Status.submitted)], day)
        is Finding.duplicate
    )
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
        [ListedPerson(a, Category.special, "01"), ListedPerson(b, Category.students, "03")],
        key=lambda p: p.category,
    )


def test_coverage_against_targets() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    targets = [{"code": "01", "name": "静海镇", "targets": {"general": 3, "students": 0, "special": 1}}]
    listed = [
        ListedPerson(a, Category.general, "01"),
        ListedPerson(b, Category.general, "01"),
        ListedPerson(c, Category.special, "99"),
    ]
    townships, totals = coverage(targets, listed, {a, c})
    first = townships[0].cells
    assert (
        first[Category.general].target,
        first[Category.general].listed,
        first[Category.general].covered,
    ) == (3, 2, 1)
    assert str(first[Category.general].rate) == "33.3" and first[Category.students].rate is None
    assert townships[1].name == "（指标外）" and townships[1].cells[Category.special].covered == 1
    assert (
        totals[Category.general].covered,
        totals[Category.special].target,
        totals[Category.special].covered,
    ) == (1, 1, 1)


@given(
    st.lists(
        st.tuples(st.sampled_from(list(Category)), st.sampled_from(["01", "02", "03"]), st.booleans()),
        max_size=60,
    )
)
def test_covered_never_exceeds_listed_and_totals_are_the_sums(
    people: list[tuple[Category, str, bool]],
) -> None:
    listed = [ListedPerson(uuid.uuid4(), category, township) for category, township, _ in people]
    covered = {p.person_id for p, (_, _, yes) in zip(listed, people, strict=True) if yes}
    targets = [
        {"code": code, "name": code, "targets": {"general": 5, "students": 5, "special": 5}}
        for code in ("01", "02")
    ]
    townships, totals = coverage(targets, listed, covered)
    for category in Category:
        assert totals[category].listed == sum(t.cells[category].listed for t in townships)
        assert (
            totals[category].covered
            == sum(t.cells[category].covered for t in townships)
            <= totals[category].listed
        )
    assert sum(t.listed for t in totals.values()) == len(listed)


# ----------------------------------------------------------------------------- rows checked whole

JINGHAI = "120118"
STUDENTS = "id_number,name,township_code,township_name,school\n"


def refused(kind: ListKind, text: str, as_of: date | None = None) -> DomainError:
    with pytest.raises(DomainError) as caught:
        parse_list(kind, text, as_of)
    return caught.value


def test_students_need_a_school_and_townships_a_plain_code() -> None:
    pupil = new_resident_id(JINGHAI)
    assert refused(
        ListKind.students, f"id_number,name,township_code,township_name\n{pupil},学生,01,静海镇\n"
    ).errors == [{"field": "file.school", "message": "缺少此列"}]
    problem = refused(ListKind.students, STUDENTS + f"{pupil},学生,=1+2,静海镇,\n")
    assert {(e["row"], e["field"]) for e in problem.errors} == {(2, "township_code"), (2, "school")}
    [row] = parse_list(ListKind.students, STUDENTS + f"{pupil},学生,01,静海镇,静海一中\n")
    assert (row.township_code, row.township_name, row.school) == ("01", "静海镇", "静海一中")


def test_values_longer_than_their_columns_are_bad_rows_not_database_errors() -> None:
    person = new_resident_id(JINGHAI)
    problem = refused(
        ListKind.resident_population,
        f"id_number,name,township_code,township_name\n{person},{'名' * 101},{'1' * 21},{'镇' * 101}\n",
    )
    assert {e["field"] for e in problem.errors} == {"name", "township_code", "township_name"}


def test_a_death_after_the_lists_date_and_the_same_person_twice_are_refused() -> None:
    dead, other = new_resident_id(JINGHAI), new_resident_id(JINGHAI)
    text = f"id_number,name,death_date\n{dead},王某,2021-07-01\n{other},李某,2021-05-01\n{other.lower()} ,李某,2021-05-02\n"
    problem = refused(ListKind.deaths, text, as_of=date(2021, 6, 30))
    assert [(e["row"], e["field"]) for e in problem.errors] == [(2, "death_date"), (4, "id_number")]
    assert problem.errors[1]["message"] == "与第 3 行为同一人"
    assert dead not in str(problem.errors) and other not in str(problem.errors)


def test_row_numbers_are_the_files_lines_and_optional_columns_may_be_absent() -> None:
    good = new_resident_id(JINGHAI)
    text = f"\ufeff id_type , id_number ,name\r\n\r\nresident_id,{good},王某\r\npassport,E1234567,SMITH JOHN\r\nnope,{good},李某\r\n"
    problem = refused(ListKind.subsistence, text)
    assert [(e["row"], e["field"]) for e in problem.errors] == [(5, "id_type")]
    rows = parse_list(
        ListKind.subsistence,
        text.replace("nope", "passport").replace(f"passport,{good}", "passport,E7654321"),
    )
    assert [(r.row, r.id_type.value, r.township_code) for r in rows] == [
        (3, "resident_id", None),
        (4, "passport", None),
        (5, "passport", None),
    ]


def test_an_unreadable_file_and_one_too_long_are_refused_without_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = new_resident_id(JINGHAI)
    assert (
        refused(ListKind.subsistence, f'id_number,name\n{person},"{"x" * 200_000}"\n').code
        == "list_unreadable"
    )
    monkeypatch.setattr(enrollment_drive, "MAX_ROWS", 2)
    rows = "".join(f"{new_resident_id(JINGHAI)},某\n" for _ in range(3))
    problem = refused(ListKind.subsistence, "id_number,name\n" + rows)
    assert (problem.status, problem.code) == (413, "list_too_long")
    assert len(parse_list(ListKind.subsistence, "id_number,name\n" + rows.split("\n", 1)[1])) == 2


def test_only_the_first_200_errors_are_listed_but_all_are_counted() -> None:
    problem = refused(ListKind.subsistence, "id_number,name\n" + "123,某\n" * 250)
    assert (
        len(problem.errors) == 200 and problem.extra["error_count"] == 250 and "250" in (problem.detail or "")
    )


# ----------------------------------------------------------------------------- findings


def test_an_earlier_years_enrollment_at_another_office_is_no_duplicate() -> None:
    person, day = uuid.uuid4(), date(2021, 6, 1)
    moved = [resident(person, "120101", year=2020), resident(person, JINGHAI)]
    assert classify(ListKind.resident_population, moved, day) is Finding.enrolled
    # Next year's filing at the new office is no duplicate either; a filing for this year is.
    assert (
        classify(
            ListKind.resident_population,
            [resident(person), resident(person, "120101", Status.submitted, 2022)],
            day,
        )
        is Finding.enrolled
    )
    assert (
        classify(ListKind.resident_population, [resident(person, status=Status.submitted)], day)
        is Finding.unenrolled
    )
    assert classify(ListKind.resident_population, [resident(person, year=2020)], day) is Finding.unenrolled


def test_a_special_group_member_the_register_does_not_place_is_counted_under_unknown() -> None:
    a = uuid.uuid4()
    [listed] = listed_persons({ListKind.veterans: [(a, None)]})
    assert listed == ListedPerson(a, Category.special, UNKNOWN_TOWNSHIP)
    townships, totals = coverage(
        [{"code": "01", "name": "静海镇", "targets": {"general": 1, "students": 1, "special": 1}}],
        [listed],
        {a},
    )
    assert townships[-1].name == "（乡镇不详）" and totals[Category.special].covered == 1


KINDS = [kind for kind in CATEGORY_OF]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(KINDS),
            st.integers(0, 15),
            st.sampled_from(["01", "02", "07", None]),
            st.booleans(),
        ),
        max_size=80,
    )
)
def test_every_listed_person_counts_once_and_covered_never_exceeds_listed(
    entries: list[tuple[ListKind, int, str | None, bool]],
) -> None:
    people = [uuid.UUID(int=n + 1) for n in range(16)]
    rows: dict[ListKind, list[tuple[uuid.UUID, str | None]]] = {}
    for kind, who, township, _ in entries:
        rows.setdefault(kind, []).append((people[who], township))
    covered = {people[who] for _, who, _, yes in entries if yes}
    listed = listed_persons(rows)
    targets = [
        {"code": c, "name": c, "targets": {"general": 3, "students": 2, "special": 1}} for c in ("01", "02")
    ]
    townships, totals = coverage(targets, listed, covered)
    assert len(listed) == len({people[who] for _, who, _, _ in entries})
    assert sum(cell.listed for cell in totals.values()) == len(listed)
    for category in Category:
        assert totals[category].target == sum(t.cells[category].target for t in townships)
        assert totals[category].covered == sum(t.cells[category].covered for t in townships)
        for township in townships:
            assert 0 <= township.cells[category].covered <= township.cells[category].listed
