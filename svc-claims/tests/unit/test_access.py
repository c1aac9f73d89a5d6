"""Claims' access seam (domain/access.py): who sees a person or an application, who handles it; an
object out of reach is 404, the same answer as for none."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from shared.auth import Principal, Role
from shared.errors import Forbidden, NotFound
from svc_claims.domain.access import (
    ListingScope,
    listing_scope,
    may_see_application,
    require_filer_reach,
    require_office_staff,
    require_own_filing,
    require_visible_person,
)
from svc_claims.domain.eligibility import Coverage

UNIT = "91120101MA05K8Q4X9"
HEPING = Principal(subject="clerk-heping", role=Role.staff, office_code="120101", office_level="district")
HEXI = Principal(subject="clerk-hexi", role=Role.staff, office_code="120103", office_level="district")
CITY = Principal(subject="city", role=Role.staff, office_code="120000", office_level="city")
EMPLOYER = Principal(subject="unit", role=Role.unit, unit_id=UNIT)
OTHER_UNIT = Principal(subject="other-unit", role=Role.unit, unit_id="91120101MA05K8Q4Y0")


def coverage_of(person: uuid.UUID, unit: str | None = UNIT) -> Coverage:
    return Coverage(uuid.uuid4(), person, "120101", "employee", None, date(2021, 1, 1), None, unit)


def test_a_person_is_seen_by_themselves_their_unit_and_their_office_and_by_no_one_else() -> None:
    person = uuid.uuid4()
    coverages = [coverage_of(person)]
    me = Principal(subject="p", role=Role.insured, person_id=person)
    stranger = Principal(subject="q", role=Role.insured, person_id=uuid.uuid4())
    for actor in (me, EMPLOYER, HEPING, CITY):
        require_visible_person(actor, person, coverages)
    for actor in (stranger, OTHER_UNIT, HEXI, Principal(subject="ops", role=Role.ops)):
        with pytest.raises(NotFound):
            require_visible_person(actor, person, coverages)
    with pytest.raises(NotFound):  # a benefit year is not the unit's to read
        require_visible_person(EMPLOYER, person, coverages, units=False)


def test_a_filer_out_of_reach_is_told_the_person_does_not_exist() -> None:
    person = uuid.uuid4()
    require_filer_reach(HEPING, [coverage_of(person)])
    require_filer_reach(HEPING, [])  # unknown to claims: refused later as not eligible, with the reason
    for actor, coverages, unknown in ((HEXI, [coverage_of(person)], True), (HEPING, [], False),
                                      (OTHER_UNIT, [coverage_of(person)], True)):  # fmt: skip
        with pytest.raises(NotFound):
            require_filer_reach(actor, coverages, unknown_person=unknown)
    with pytest.raises(Forbidden) as refused:
        require_own_filing(Principal(subject="p", role=Role.insured, person_id=uuid.uuid4()), person)
    assert refused.value.code == "not_own_claim"


def test_an_application_is_handled_by_its_office_and_approved_by_the_city() -> None:
    person = uuid.uuid4()
    assert may_see_application(HEPING, person_id=person, office_code="120101", unit_code=None)
    assert not may_see_application(HEXI, person_id=person, office_code="120101", unit_code=None)
    assert not may_see_application(EMPLOYER, person_id=person, office_code="120101", unit_code=None)
    require_office_staff(HEPING, "120101")
    with pytest.raises(Forbidden) as not_city:
        require_office_staff(HEPING, "120101", city=True)
    assert not_city.value.code == "city_level_required"
    with pytest.raises(Forbidden) as not_staff:
        require_office_staff(EMPLOYER, "120101")
    assert not_staff.value.code == "staff_only"
    assert listing_scope(EMPLOYER) == ListingScope(unit_code=UNIT, offices=None)


def test_a_list_holds_the_offices_the_policy_gives_the_caller_and_no_other_region() -> None:
    assert listing_scope(HEPING).offices == frozenset({"120101"})
    city = listing_scope(CITY).offices
    assert city is not None and {"120000", "120101", "120103"} <= city
    assert not any(code.startswith("13") for code in city)  # no Hebei office in Tianjin's list
    assert listing_scope(Principal(subject="admin", role=Role.admin)).offices is None
    for nobody in (Role.ops, Role.facility, Role.peer_office):
        assert listing_scope(Principal(subject="x", role=nobody, office_code="120101")).offices == frozenset()
    # a person's token without a person, a unit's without a unit: nothing, never everything
    assert listing_scope(Principal(subject="p", role=Role.insured)).offices == frozenset()
    assert listing_scope(Principal(subject="u", role=Role.unit)).offices == frozenset()
