"""The platform's one access policy (shared.access) over the office directory's four levels."""

from __future__ import annotations

import uuid

import pytest

from shared.access import ACCEPTING_LEVELS, POLICY, Handles, may_accept
from shared.auth.principal import Principal, Role
from shared.directory import load_catalogue, office_by_code

PERSON, OTHER_PERSON = uuid.uuid4(), uuid.uuid4()


def staff(office: str, level: str = "district") -> Principal:
    return Principal(subject=f"staff-{office}", role=Role.staff, office_code=office, office_level=level)  # type: ignore[arg-type]


INSURED = Principal(subject="p", role=Role.insured, person_id=PERSON)
UNIT = Principal(subject="u", role=Role.unit, unit_id="91120101MA05K8Q4X9", office_code="120101")
FACILITY = Principal(subject="f", role=Role.facility, facility_id="H12010100001", office_code="120101")
PEER = Principal(subject="peer", role=Role.peer_office, office_code="310000")
OPS = Principal(subject="ops", role=Role.ops)
ADMIN = Principal(subject="admin", role=Role.admin)
HEPING, HEXI, TIANJIN_CITY = staff("120101"), staff("120103"), staff("120000", "city")
QHD_CITY, HAIGANG = staff("130300", "city"), staff("130302")
TOWNSHIP, VILLAGE = staff("130302001", "township"), staff("130302001001", "village")


def test_qinhuangdao_has_offices_at_all_four_levels_and_tianjin_at_two() -> None:
    assert [office_by_code(c).level for c in ("130300", "130302", "130302001", "130302001001")] == [  # type: ignore[union-attr]
        "city",
        "district",
        "township",
        "village",
    ]
    village = office_by_code("130302001001")
    assert village is not None and village.powers == {"guide", "forward"} and not village.holds_cases
    assert office_by_code("120000").powers == {"accept", "decide"}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("actor", "office", "reached"),
    [
        (HEPING, "120101", True),
        (HEPING, "120103", False),  # a sibling district
        (HEPING, "120000", False),  # the city above is not the district's
        (TIANJIN_CITY, "120103", True),
        (TIANJIN_CITY, "130302", False),  # another region's office, though city staff
        (QHD_CITY, "130302", True),
        (HAIGANG, "130302001", True),  # the district over its townships
        (HAIGANG, "130302001001", True),  # and their villages
        (TOWNSHIP, "130302001001", True),
        (TOWNSHIP, "130302", False),  # a township does not reach up to its district
        (VILLAGE, "130302001", False),
        (TIANJIN_CITY, "120116", True),  # not listed (removed), but under the city by its division code
        (HEPING, "120116", False),
        (staff("120116"), "120116", True),  # an office no longer listed is its own clerks'
        (INSURED, "120101", False),
        (OPS, "120101", False),
        (PEER, "120101", False),
    ],
)
def test_staff_reach_their_office_and_the_offices_below_it_only(
    actor: Principal, office: str, reached: bool
) -> None:
    assert POLICY.serves(actor, office) is reached
    assert actor.serves_office(office) is reached  # the principal's shortcut is the same policy


@pytest.mark.parametrize(
    ("actor", "own", "another"),
    [
        (INSURED, Handles(office="120101", person=PERSON), Handles(office="120101", person=OTHER_PERSON)),
        (UNIT, Handles(office="120103", unit="91120101MA05K8Q4X9"), Handles(office="120101", unit="X")),
        (
            FACILITY,
            Handles(office="120103", facility="H12010100001"),
            Handles(office="120101", facility="H2"),
        ),
        (HEPING, Handles(office="120101", person=OTHER_PERSON), Handles(office="120103", person=PERSON)),
        (TIANJIN_CITY, Handles(office="120103"), Handles(office="130300")),
        (ADMIN, Handles(office="130300"), None),
        (OPS, None, Handles(office="120101", person=PERSON)),
        (PEER, None, Handles(office="310000", person=PERSON)),  # a peer follows its exchange by the protocol
    ],
)
def test_each_caller_reaches_its_own_objects_and_no_one_elses(
    actor: Principal, own: Handles | None, another: Handles | None
) -> None:
    if own is not None:
        assert POLICY.reaches(actor, own)
    if another is not None:
        assert not POLICY.reaches(actor, another)


def test_ops_and_peers_see_no_personal_data() -> None:
    assert not POLICY.sees_personal_data(OPS) and not POLICY.sees_personal_data(PEER)
    assert (
        POLICY.sees_personal_data(HEPING)
        and POLICY.is_peer(PEER, "310000")
        and not POLICY.is_peer(PEER, "320000")
    )


def test_a_township_accepts_and_forwards_to_its_district_which_decides() -> None:
    assert POLICY.holding_office("130302001").code == "130302"  # type: ignore[union-attr]
    assert POLICY.holding_office("130302001001").code == "130302"  # type: ignore[union-attr]
    assert POLICY.holding_office("120101").code == "120101"  # type: ignore[union-attr]
    assert POLICY.holding_office("999999") is None
    assert POLICY.may_decide(HAIGANG, "130302") and POLICY.may_decide(QHD_CITY, "130302")
    assert not POLICY.may_decide(TOWNSHIP, "130302001")


def test_list_scopes_are_the_office_and_the_offices_below_it() -> None:
    assert POLICY.staff_scope(HEPING).codes == {"120101"}
    tianjin = POLICY.staff_scope(TIANJIN_CITY)
    assert tianjin.admits("120103") and not tianjin.admits("130302") and len(tianjin.codes or ()) == 22
    assert POLICY.staff_scope(HAIGANG).codes == {"130302", "130302001", "130302001001"}
    assert POLICY.staff_scope(ADMIN).everything and POLICY.staff_scope(OPS).codes == frozenset()


def test_each_catalogue_item_is_accepted_at_the_levels_its_seed_names() -> None:
    items = load_catalogue()
    assert {i.level for i in items} <= set(ACCEPTING_LEVELS)  # every level text of the seeds is known
    township, village = office_by_code("130302001"), office_by_code("130302001001")
    district, city = office_by_code("130302"), office_by_code("130300")
    assert township and village and district and city
    enrollment = next(i for i in items if i.level == "乡、村")  # e.g. 城乡居民参保登记 at the township
    assert may_accept(township, enrollment) and may_accept(village, enrollment)
    assert not may_accept(city, enrollment)
    city_only = next(i for i in items if i.level == "市级")
    assert (
        may_accept(city, city_only)
        and not may_accept(district, city_only)
        and not may_accept(township, city_only)
    )
