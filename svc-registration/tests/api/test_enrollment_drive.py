"""The universal-enrollment drive through the service's API: lists matched, the dead's coverage ended
once, coverage against Jinghai's 2021 targets as JSON and as a spreadsheet, and access."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shared.auth import Role
from shared.testing.e2e import new_resident_id

pytestmark = pytest.mark.integration

API = "/api/v1/registration"
JINGHAI = "120118"


def enroll(registration, staff, id_number: str) -> dict:  # type: ignore[no-untyped-def]
    body = {"person": {"id_number": id_number, "name": "居民"}, "office_code": JINGHAI, "tier": "adult_low", "coverage_year": 2021,
            "paid_on": "2020-10-15", "materials": {"id_document": "original"}}  # fmt: skip
    created = registration.client.post(f"{API}/enrollments/residents", json=body, headers=staff)
    assert created.status_code == 201, created.text
    approved = registration.client.post(f"{API}/enrollments/{created.json()['id']}/approve", json={"version": 1}, headers=staff)
    return approved.json()


def upload(registration, headers, kind: str, csv_text: str, as_of: str = "2021-06-30", office: str = JINGHAI):  # type: ignore[no-untyped-def]
    form = {"kind": kind, "source_department": "静海区民政局", "office_code": office, "as_of": as_of}
    return registration.client.post(f"{API}/drive/lists", data=form, files={"file": ("list.csv", csv_text.encode("utf-8"), "text/csv")}, headers=headers)


async def count(database_url: str, table: str) -> int:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return await connection.fetchval(f"SELECT count(*) FROM registration.{table}")
    finally:
        await connection.close()


@pytest.fixture
def staff(registration):  # type: ignore[no-untyped-def]
    return registration.token(Role.staff, office_code=JINGHAI, office_level="district")


def test_a_deaths_list_ends_coverage_once_and_reports_each_row(registration, staff, migrated_database) -> None:  # type: ignore[no-untyped-def]
    dead, alive_unknown = new_resident_id(JINGHAI), new_resident_id(JINGHAI)
    enrollment = enroll(registration, staff, dead)
    text = f"id_number,name,death_date\n{dead},王某,2021-05-03\n{alive_unknown},李某,2021-05-04\n"
    uploaded = upload(registration, staff, "deaths", text)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["counts"] == {"dead": 2} and uploaded.json()["row_count"] == 2

    ended = registration.client.get(f"{API}/enrollments/{enrollment['id']}", headers=staff).json()
    assert (ended["status"], ended["benefit_end"]) == ("terminated", "2021-05-03")
    rows = registration.client.get(f"{API}/drive/lists/{uploaded.json()['id']}/findings", headers=staff).json()
    assert rows["total"] == 2 and rows["items"][0]["ended_enrollments"] == [enrollment["id"]]
    assert dead not in str(rows) and "*" in rows["items"][0]["id_masked"]

    events_before = asyncio.run(count(migrated_database, "outbox"))
    again = upload(registration, staff, "deaths", text)
    assert again.status_code == 201
    assert registration.client.get(f"{API}/drive/lists/{again.json()['id']}/findings", headers=staff).json()["items"][0]["ended_enrollments"] == []
    assert asyncio.run(count(migrated_database, "outbox")) == events_before  # nothing ended twice


def test_a_bad_list_is_refused_whole_and_writes_nothing(registration, staff, migrated_database) -> None:  # type: ignore[no-untyped-def]
    before = asyncio.run(count(migrated_database, "drive_rows")), asyncio.run(count(migrated_database, "drive_lists"))
    good = new_resident_id(JINGHAI)
    refused = upload(registration, staff, "resident_population", f"id_number,name,township_code,township_name\n{good},张某,01,静海镇\n123,李某,,\n")
    assert refused.status_code == 422 and refused.json()["code"] == "list_rows_invalid"
    assert {(e["row"], e["field"]) for e in refused.json()["errors"]} == {(3, "id_number"), (3, "township_code")}
    assert upload(registration, staff, "nonsense", "id_number,name\n").status_code == 422
    assert upload(registration, staff, "deaths", "id_number,name,death_date\n").json()["code"] == "list_empty"
    latin1 = registration.client.post(f"{API}/drive/lists", data={"kind": "deaths", "source_department": "民政", "office_code": JINGHAI, "as_of": "2021-06-30"},
                                      files={"file": ("l.csv", "名单".encode("gbk"), "text/csv")}, headers=staff)  # fmt: skip
    assert latin1.status_code == 422 and latin1.json()["code"] == "list_encoding"
    assert (asyncio.run(count(migrated_database, "drive_rows")), asyncio.run(count(migrated_database, "drive_lists"))) == before


def test_coverage_against_the_2021_jinghai_targets(registration, staff) -> None:  # type: ignore[no-untyped-def]
    covered, uncovered, pupil, poor = (new_resident_id(JINGHAI) for _ in range(4))
    for person in (covered, pupil, poor):
        enroll(registration, staff, person)
    population = "id_number,name,township_code,township_name\n" + "".join(
        f"{p},居民,01,静海镇\n" for p in (covered, uncovered, poor))  # fmt: skip
    assert upload(registration, staff, "resident_population", population).json()["counts"] == {"enrolled": 2, "unenrolled": 1}
    assert upload(registration, staff, "students", f"id_number,name,township_code,township_name,school\n{pupil},学生,02,大邱庄镇,大邱庄小学\n").status_code == 201
    assert upload(registration, staff, "subsistence", f"id_number,name\n{poor},低保户\n").status_code == 201

    report = registration.client.get(f"{API}/drive/coverage", params={"year": 2021, "office_code": JINGHAI, "on": "2021-06-30"}, headers=staff)
    assert report.status_code == 200, report.text
    towns = {t["code"]: t for t in report.json()["townships"]}
    assert len(towns) == 19 and towns["01"]["name"] == "静海镇"
    assert towns["01"]["categories"]["general"] == {"target": 31267, "listed": 2, "covered": 1, "rate_percent": "0.0"}
    assert towns["01"]["categories"]["special"]["covered"] == 1 and towns["02"]["categories"]["students"]["covered"] == 1
    totals = report.json()["totals"]
    assert totals["general"]["target"] + totals["students"]["target"] + totals["special"]["target"] == 461563

    sheet = registration.client.get(f"{API}/drive/coverage.csv", params={"year": 2021, "office_code": JINGHAI, "on": "2021-06-30"}, headers=staff)
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    lines = sheet.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("乡镇代码,乡镇名称,一般居民指标") and lines[1].startswith("01,静海镇,31267,2,1,0.0")
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
        assert registration.client.get(f"{API}/drive/lists/{uploaded['id']}", headers=registration.token(role)).status_code == 403
    assert registration.client.get(f"{API}/drive/coverage", params={"year": 2021, "office_code": JINGHAI}, headers=heping).status_code == 403
