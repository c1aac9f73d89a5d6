"""The universal-enrollment drive through the service's API: lists matched, the dead's coverage ended
once, coverage against Jinghai's 2021 targets as JSON and as a spreadsheet, and access."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from shared.auth import Role
from shared.testing.e2e import new_resident_id

pytestmark = pytest.mark.integration

API = "/api/v1/registration"
JINGHAI = "120118"


# The drive's figures are those of 2021, a year already over: its enrollments are late records with the payment papers.
LATE = {"reason": "补登2021年度参保（已缴费）", "receipts": ["税缴 2020-120118-000042"]}


def enroll(registration, staff, id_number: str, year: int = 2021, approve: bool = True) -> dict:  # type: ignore[no-untyped-def]
    body = {"person": {"id_number": id_number, "name": "居民"}, "office_code": JINGHAI, "tier": "adult_middle", "coverage_year": year,
            "paid_on": f"{year - 1}-10-15", "materials": {"id_document": "original"}, "late_record": LATE}  # fmt: skip
    created = registration.client.post(f"{API}/enrollments/residents", json=body, headers=staff)
    assert created.status_code == 201, created.text
    if not approve:
        return created.json()
    approved = registration.client.post(
        f"{API}/enrollments/{created.json()['id']}/approve", json={"version": 1}, headers=staff
    )
    assert approved.status_code == 200, approved.text
    return approved.json()


def upload(registration, headers, kind: str, csv_text: str, as_of: str = "2021-06-30", office: str = JINGHAI):  # type: ignore[no-untyped-def]
    form = {"kind": kind, "source_department": "静海区民政局", "office_code": office, "as_of": as_of}
    return registration.client.post(
        f"{API}/drive/lists",
        data=form,
        files={"file": ("list.csv", csv_text.encode("utf-8"), "text/csv")},
        headers=headers,
    )


async def count(database_url: str, table: str) -> int:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return await connection.fetchval(f"SELECT count(*) FROM registration.{table}")
    finally:
        await connection.close()


@pytest.fixture
def staff(registration):  # type: ignore[no-untyped-def]
    return registration.token(Role.staff, office_code=JINGHAI, office_level="district")


def test_a_deaths_list_ends_coverage_once_and_reports_each_row(
    registration, staff, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    dead, alive_unknown = new_resident_id(JINGHAI), new_resident_id(JINGHAI)
    enrollment = enroll(registration, staff, dead)
    text = f"id_number,name,death_date\n{dead},王某,2021-05-03\n{alive_unknown},李某,2021-05-04\n"
    uploaded = upload(registration, staff, "deaths", text)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["counts"] == {"dead": 2} and uploaded.json()["row_count"] == 2

    ended = registration.client.get(f"{API}/enrollments/{enrollment['id']}", headers=staff).json()
    assert (ended["status"], ended["benefit_end"]) == ("terminated", "2021-05-03")
    rows = registration.client.get(
        f"{API}/drive/lists/{uploaded.json()['id']}/findings", headers=staff
    ).json()
    assert rows["total"] == 2 and rows["items"][0]["ended_enrollments"] == [enrollment["id"]]
    assert dead not in str(rows) and "*" in rows["items"][0]["id_masked"]

    events_before = asyncio.run(count(migrated_database, "outbox"))
    again = upload(registration, staff, "deaths", text)
    assert again.status_code == 201
    assert (
        registration.client.get(f"{API}/drive/lists/{again.json()['id']}/findings", headers=staff).json()[
            "items"
        ][0]["ended_enrollments"]
        == []
    )
    assert asyncio.run(count(migrated_database, "outbox")) == events_before  # nothing ended twice


def test_a_bad_list_is_refused_whole_and_writes_nothing(registration, staff, migrated_database) -> None:  # type: ignore[no-untyped-def]
    before = (
        asyncio.run(count(migrated_database, "drive_rows")),
        asyncio.run(count(migrated_database, "drive_lists")),
    )
    good = new_resident_id(JINGHAI)
    refused = upload(
        registration,
        staff,
        "resident_population",
        f"id_number,name,township_code,township_name\n{good},张某,01,静海镇\n123,李某,,\n",
    )
    assert refused.status_code == 422 and refused.json()["code"] == "list_rows_invalid"
    assert {(e["row"], e["field"]) for e in refused.json()["errors"]} == {
        (3, "id_number"),
        (3, "township_code"),
        (3, "township_name"),
    }
    assert upload(registration, staff, "nonsense", "id_number,name\n").status_code == 422
    assert upload(registration, staff, "deaths", "id_number,name,death_date\n").json()["code"] == "list_empty"
    latin1 = registration.client.post(f"{API}/drive/lists", data={"kind": "deaths", "source_department": "民政", "office_code": JINGHAI, "as_of": "2021-06-30"},
                                      files={"file": ("l.csv", "名单".encode("gbk"), "text/csv")}, headers=staff)  # fmt: skip
    assert latin1.status_code == 422 and latin1.json()["code"] == "list_encoding"
    assert (
        asyncio.run(count(migrated_database, "drive_rows")),
        asyncio.run(count(migrated_database, "drive_lists")),
    ) == before


def test_coverage_against_the_2021_jinghai_targets(registration, staff) -> None:  # type: ignore[no-untyped-def]
    covered, uncovered, pupil, poor = (new_resident_id(JINGHAI) for _ in range(4))
    for person in (covered, pupil, poor):
        enroll(registration, staff, person)
    population = "id_number,name,township_code,township_name\n" + "".join(
        f"{p},居民,01,静海镇\n" for p in (covered, uncovered, poor))  # fmt: skip
    assert upload(registration, staff, "resident_population", population).json()["counts"] == {
        "enrolled": 2,
        "unenrolled": 1,
    }
    assert (
        upload(
            registration,
            staff,
            "students",
            f"id_number,name,township_code,township_name,school\n{pupil},学生,02,大邱庄镇,大邱庄小学\n",
        ).status_code
        == 201
    )
    assert upload(registration, staff, "subsistence", f"id_number,name\n{poor},低保户\n").status_code == 201

    report = registration.client.get(
        f"{API}/drive/coverage",
        params={"year": 2021, "office_code": JINGHAI, "on": "2021-06-30"},
        headers=staff,
    )
    assert report.status_code == 200, report.text
    towns = {t["code"]: t for t in report.json()["townships"]}
    assert len(towns) == 19 and towns["01"]["name"] == "静海镇"
    assert towns["01"]["categories"]["general"] == {
        "target": 31267,
        "listed": 2,
        "covered": 1,
        "rate_percent": "0.0",
    }
    assert (
        towns["01"]["categories"]["special"]["covered"] == 1
        and towns["02"]["categories"]["students"]["covered"] == 1
    )
    totals = report.json()["totals"]
    assert totals["general"]["target"] + totals["students"]["target"] + totals["special"]["target"] == 461563

    sheet = registration.client.get(
        f"{API}/drive/coverage.csv",
        params={"year": 2021, "office_code": JINGHAI, "on": "2021-06-30"},
        headers=staff,
    )
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    lines = sheet.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("乡镇代码,乡镇名称,一般居民指标") and lines[1].startswith(
        "01,静海镇,31267,2,1,0.0"
    )
    assert lines[-1].startswith(",合计,321376")


def test_only_staff_of_the_office_see_and_upload_lists(registration, staff) -> None:  # type: ignore[no-untyped-def]
    text = f"id_number,name,death_date\n{new_resident_id(JINGHAI)},王某,2021-05-03\n"
    uploaded = upload(registration, staff, "deaths", text).json()
    heping = registration.token(Role.staff, office_code="120101", office_level="district")
    assert upload(registration, heping, "deaths", text).status_code == 403
    assert registration.client.get(f"{API}/drive/lists/{uploaded['id']}", headers=heping).status_code == 404
    city = registration.token(Role.staff, office_code="120000", office_level="city")
    assert registration.client.get(f"{API}/drive/lists/{uploaded['id']}", headers=city).status_code == 200
    for role in (Role.insured, Role.unit, Role.ops):
        assert (
            registration.client.get(
                f"{API}/drive/lists/{uploaded['id']}", headers=registration.token(role)
            ).status_code
            == 403
        )
    assert (
        registration.client.get(
            f"{API}/drive/coverage", params={"year": 2021, "office_code": JINGHAI}, headers=heping
        ).status_code
        == 403
    )


def enrollment(registration, staff, enrollment_id: str) -> dict:  # type: ignore[no-untyped-def]
    return registration.client.get(f"{API}/enrollments/{enrollment_id}", headers=staff).json()


def test_a_death_before_next_years_coverage_and_a_pending_filing(
    registration, staff, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    dead, pending = new_resident_id(JINGHAI), new_resident_id(JINGHAI)
    last_year, this_year, next_year = (enroll(registration, staff, dead, year) for year in (2020, 2021, 2022))
    filed = enroll(registration, staff, pending, 2021, approve=False)
    events_before = asyncio.run(count(migrated_database, "outbox"))

    text = f"id_number,name,death_date\n{dead},王某,2021-05-03\n{pending},李某,2021-02-10\n"
    uploaded = upload(registration, staff, "deaths", text)
    assert uploaded.status_code == 201, uploaded.text
    assert (
        enrollment(registration, staff, this_year["id"])["status"],
        enrollment(registration, staff, this_year["id"])["benefit_end"],
    ) == ("terminated", "2021-05-03")
    # Paid for next year already: ended the day before it would have started.
    assert (
        enrollment(registration, staff, next_year["id"])["status"],
        enrollment(registration, staff, next_year["id"])["benefit_end"],
    ) == ("terminated", "2021-12-31")
    # Last year's coverage had ended before the death: left as it was.
    assert enrollment(registration, staff, last_year["id"])["status"] == "approved"
    refused = enrollment(registration, staff, filed["id"])
    assert refused["status"] == "rejected" and refused["decisions"][-1]["reason"].startswith("死亡")
    assert (
        asyncio.run(count(migrated_database, "outbox")) == events_before + 2
    )  # registration.terminated for the two approved ones

    rows = registration.client.get(
        f"{API}/drive/lists/{uploaded.json()['id']}/findings", headers=staff
    ).json()["items"]
    assert sorted(rows[0]["ended_enrollments"]) == sorted([this_year["id"], next_year["id"]])
    assert rows[1]["ended_enrollments"] == [filed["id"]]


def test_findings_by_class_paginated_with_masked_numbers(registration, staff) -> None:  # type: ignore[no-untyped-def]
    enrolled = new_resident_id(JINGHAI)
    enroll(registration, staff, enrolled)
    strangers = [new_resident_id(JINGHAI) for _ in range(3)]
    text = (
        "id_number,name,township_code\n"
        + f"{enrolled},甲,03\n"
        + "".join(f"{p},乙{n},05\n" for n, p in enumerate(strangers))
    )
    uploaded = upload(registration, staff, "subsistence", text, as_of="2021-06-30")
    assert uploaded.status_code == 201, uploaded.text
    summary = registration.client.get(f"{API}/drive/lists/{uploaded.json()['id']}", headers=staff).json()
    assert summary["counts"] == {"enrolled": 1, "unenrolled": 3} and summary["row_count"] == 4
    assert any("跨省" in note for note in summary["notes"])

    url = f"{API}/drive/lists/{uploaded.json()['id']}/findings"
    first = registration.client.get(
        url, params={"class": "unenrolled", "page": 1, "size": 2}, headers=staff
    ).json()
    second = registration.client.get(
        url, params={"class": "unenrolled", "page": 2, "size": 2}, headers=staff
    ).json()
    assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    items = first["items"] + second["items"]
    assert [i["id_masked"] for i in items] == [f"{p[:4]}**********{p[-4:]}" for p in strangers]
    assert [(i["name"], i["township_code"], i["finding"]) for i in items] == [
        (f"乙{n}", "05", "unenrolled") for n in range(3)
    ]
    assert not any(p in str(items) for p in strangers)
    assert registration.client.get(url, params={"class": "enrolled"}, headers=staff).json()["total"] == 1
    bad = registration.client.get(url, params={"class": "alive"}, headers=staff)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert registration.client.get(url, params={"size": 501}, headers=staff).status_code == 422
    assert (
        registration.client.get(f"{API}/drive/lists/{uuid.uuid4()}/findings", headers=staff).status_code
        == 404
    )


def test_refused_uploads_name_the_field_and_write_nothing(
    registration, staff, migrated_database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from svc_registration.api import enrollment_drive as api

    tables = ("drive_lists", "drive_rows", "outbox")
    before = [asyncio.run(count(migrated_database, t)) for t in tables]
    good = f"id_number,name\n{new_resident_id(JINGHAI)},王某\n"
    unknown = upload(registration, staff, "subsistence", good, office="129999")
    assert unknown.status_code == 403  # a district clerk: not their office, known or not
    city = registration.token(Role.staff, office_code="120000", office_level="city")
    unknown = upload(registration, city, "subsistence", good, office="129999")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "office_code"
    form = {
        "kind": "subsistence",
        "source_department": "民政局",
        "office_code": JINGHAI,
        "as_of": "2021-13-01",
    }
    bad_date = registration.client.post(
        f"{API}/drive/lists", data=form, files={"file": ("l.csv", good.encode(), "text/csv")}, headers=staff
    )
    assert bad_date.status_code == 422 and "as_of" in str(bad_date.json()["errors"])
    no_file = registration.client.post(
        f"{API}/drive/lists", data={**form, "as_of": "2021-06-30"}, headers=staff
    )
    assert no_file.status_code == 422 and "file" in str(no_file.json()["errors"])
    died_later = upload(
        registration,
        staff,
        "deaths",
        f"id_number,name,death_date\n{new_resident_id(JINGHAI)},王某,2021-07-01\n",
        as_of="2021-06-30",
    )
    assert died_later.status_code == 422 and died_later.json()["errors"][0]["field"] == "death_date"
    monkeypatch.setattr(api, "MAX_BYTES", 40)
    too_large = upload(registration, staff, "subsistence", good * 2)
    assert too_large.status_code == 413 and too_large.json()["code"] == "list_too_large"
    assert [asyncio.run(count(migrated_database, t)) for t in tables] == before


def test_the_latest_list_of_each_kind_counts_in_the_coverage(registration, staff) -> None:  # type: ignore[no-untyped-def]
    office = "120119"  # 蓟州: no targets on file, so only what the lists say
    clerk = registration.token(Role.staff, office_code=office, office_level="district")
    a, b = new_resident_id(office), new_resident_id(office)
    header = "id_number,name,township_code,township_name\n"
    assert (
        upload(
            registration,
            clerk,
            "resident_population",
            header + f"{a},甲,01,甲镇\n{b},乙,01,甲镇\n",
            "2021-03-31",
            office,
        ).status_code
        == 201
    )
    assert (
        upload(
            registration, clerk, "resident_population", header + f"{a},甲,02,乙镇\n", "2021-09-30", office
        ).status_code
        == 201
    )
    assert (
        upload(
            registration, clerk, "resident_population", header + f"{b},乙,03,丙镇\n", "2021-06-30", office
        ).status_code
        == 201
    )  # uploaded last, dated earlier
    report = registration.client.get(
        f"{API}/drive/coverage",
        params={"year": 2021, "office_code": office, "on": "2021-10-01"},
        headers=clerk,
    ).json()
    assert report["targets_on_file"] is False
    assert {t["code"]: t["categories"]["general"]["listed"] for t in report["townships"]} == {"02": 1}
    assert report["totals"]["general"] == {"target": 0, "listed": 1, "covered": 0, "rate_percent": None}
    wrong = registration.client.get(
        f"{API}/drive/coverage", params={"year": "x", "office_code": office}, headers=clerk
    )
    assert wrong.status_code == 422 and "year" in str(wrong.json()["errors"])
