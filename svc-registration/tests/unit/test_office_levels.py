"""Where a case is filed, by the level of the clerk's office (the office directory's four levels)."""

from __future__ import annotations

import pytest

from shared.auth.principal import Principal, Role
from shared.errors import Forbidden, Invalid
from svc_registration.domain.access import case_office, serves_code


def clerk(office: str, level: str) -> Principal:
    return Principal(subject=f"clerk-{office}", role=Role.staff, office_code=office, office_level=level)  # type: ignore[arg-type]


TOWNSHIP, VILLAGE = clerk("130302001", "township"), clerk("130302001001", "village")
HAIGANG, QHD_CITY, TIANJIN_CITY = (
    clerk("130302", "district"),
    clerk("130300", "city"),
    clerk("120000", "city"),
)


def test_a_township_or_village_clerk_files_at_the_district_office_that_holds_its_cases() -> None:
    assert case_office("130302", TOWNSHIP).code == "130302"
    assert case_office("130302", VILLAGE).code == "130302"
    with pytest.raises(Forbidden):
        case_office("130303", TOWNSHIP)  # another county's office
    with pytest.raises(Invalid):
        case_office("130302001", TOWNSHIP)  # its own centre holds no cases: choose the district office


def test_city_staff_file_anywhere_in_their_city_and_an_unknown_or_foreign_office_is_refused() -> None:
    assert case_office("130302", QHD_CITY).code == "130302"
    with pytest.raises(Invalid):
        case_office("999999", TIANJIN_CITY)
    with pytest.raises(Forbidden):
        case_office("130302", TIANJIN_CITY)


def test_a_district_clerk_reaches_the_cases_of_its_townships_but_a_township_clerk_not_the_districts() -> None:
    assert serves_code(HAIGANG, "130302001")
    assert not serves_code(TOWNSHIP, "130302")
    assert not serves_code(TIANJIN_CITY, "130302")
