"""Designation conditions per applicant kind (file 000), each at, below and above its threshold."""

from dataclasses import replace
from datetime import date

import pytest

from shared.errors import DomainError
from svc_facility.domain.eligibility import (
    ASSESSMENT_AGREEMENT,
    DRUG_LICENCE,
    HOSPITAL_LICENCE,
    MILITARY_LICENCE,
    NURSING_AGREEMENT,
    PHARMACY_REGISTRATION,
    ApplicantFacts,
    Staffer,
    required_materials,
    unmet_conditions,
)
from svc_facility.domain.kinds import ApplicantKind, InstitutionType

ON = date(2026, 6, 15)
OPENED_LONG_AGO = date(2024, 1, 10)
ALL_EQUIPMENT = frozenset({"video", "biometric", "drug_tracing"})


def hospital(**changes) -> ApplicantFacts:
    facts = ApplicantFacts(
        kind=ApplicantKind.medical_institution,
        institution_type=InstitutionType.general_hospital,
        opened_on=OPENED_LONG_AGO,
        first_registered_physicians=3,
        insurance_staff=(Staffer(registered_here=True, contract_months=36, full_time=True),),
        beds=50,
        responsible_head=True,
        systems=frozenset({"insurance", "finance", "statistics", "quality"}),
        information_system_connected=True,
        uses_national_codes=True,
        purchasing_platform=True,
        equipment=ALL_EQUIPMENT,
    )
    return replace(facts, **changes)


def pharmacy(**changes) -> ApplicantFacts:
    facts = ApplicantFacts(
        kind=ApplicantKind.retail_pharmacy,
        institution_type=None,
        opened_on=OPENED_LONG_AGO,
        pharmacists=(Staffer(registered_here=True, contract_months=12),),
        insurance_staff=(Staffer(False, 12), Staffer(False, 24)),
        systems=frozenset({"insurance_drugs", "finance", "insurance_personnel", "statistics", "settlement"}),
        information_system_connected=True,
        uses_national_codes=True,
        purchasing_platform=True,
        equipment=ALL_EQUIPMENT,
        drug_zoning_and_labels=True,
    )
    return replace(facts, **changes)


def nursing(**changes) -> ApplicantFacts:
    facts = ApplicantFacts(
        kind=ApplicantKind.ltc_nursing,
        institution_type=None,
        opened_on=OPENED_LONG_AGO,
        medical_qualification_or_partner=True,
        information_system_connected=True,
    )
    return replace(facts, **changes)


def assessment(**changes) -> ApplicantFacts:
    facts = ApplicantFacts(
        kind=ApplicantKind.disability_assessment,
        institution_type=None,
        opened_on=OPENED_LONG_AGO,
        professional_assessment_team=True,
        information_system_connected=True,
    )
    return replace(facts, **changes)


def codes(facts: ApplicantFacts, on: date = ON) -> list[str]:
    return [condition.code for condition in unmet_conditions(facts, on)]


@pytest.mark.parametrize(
    "facts", [hospital(), pharmacy(), nursing(), assessment()], ids=lambda f: f.kind.value
)
def test_a_complete_applicant_of_each_kind_meets_every_condition(facts):
    assert unmet_conditions(facts, ON) == []


# ----------------------------------------------------------------------- 3 months of operation


@pytest.mark.parametrize("make", [hospital, nursing, assessment])
def test_three_months_of_operation_below_at_and_above(make):
    facts = make(opened_on=date(2026, 3, 16))
    below = unmet_conditions(facts, date(2026, 6, 15))
    assert [c.code for c in below] == ["operating_months"]
    assert "不足3个月（实际 2 个月）" in below[0].message
    assert codes(facts, date(2026, 6, 16)) == []  # exactly 3 whole months
    assert codes(facts, date(2026, 9, 1)) == []


def test_operating_months_at_a_month_end():
    facts = hospital(opened_on=date(2026, 1, 31))
    assert codes(facts, date(2026, 4, 29)) == ["operating_months"]
    assert codes(facts, date(2026, 4, 30)) == []  # April has no 31st: its last day completes the month


def test_a_pharmacy_counts_from_the_day_it_began_at_its_registered_address():
    moved = pharmacy(address_since=date(2026, 4, 1))
    unmet = unmet_conditions(moved, ON)
    assert [c.code for c in unmet] == ["operating_months"]
    assert unmet[0].message == "在注册地址正式经营不足3个月（实际 2 个月）"
    assert codes(moved, date(2026, 7, 1)) == []
    assert codes(pharmacy(opened_on=date(2026, 5, 1)), ON) == ["operating_months"]  # no move: from opening


# ----------------------------------------------------------------------- medical institutions


def test_at_least_one_first_registered_physician():
    assert codes(hospital(first_registered_physicians=0)) == ["physician"]
    assert codes(hospital(first_registered_physicians=1)) == []
    assert codes(hospital(first_registered_physicians=2)) == []


@pytest.mark.parametrize(
    ("beds", "department", "expected"),
    [
        (99, False, []),
        (100, False, ["insurance_department"]),
        (100, True, []),
        (101, False, ["insurance_department"]),
        (101, True, []),
    ],
)
def test_a_hundred_beds_or_more_need_an_insurance_department(beds, department, expected):
    assert codes(hospital(beds=beds, has_insurance_department=department)) == expected


def test_a_hundred_beds_need_full_time_insurance_staff_and_fewer_need_any_staff():
    part_time = (Staffer(False, 0, full_time=False),)
    assert codes(hospital(beds=99, insurance_staff=part_time)) == []
    assert codes(hospital(beds=100, has_insurance_department=True, insurance_staff=part_time)) == [
        "full_time_insurance_staff"
    ]
    assert codes(hospital(beds=20, insurance_staff=())) == ["insurance_staff"]


def test_hospital_rules_systems_and_equipment_name_what_is_missing():
    facts = hospital(systems=frozenset({"insurance", "finance"}), equipment=frozenset({"video"}))
    unmet = {c.code: c.message for c in unmet_conditions(facts, ON)}
    assert unmet["systems"] == "缺少符合医保协议管理要求的制度：统计信息管理制度、医疗质量安全核心制度"
    assert unmet["equipment"] == "缺少监管设施设备：生物识别、药品追溯系统"


def test_village_clinics_need_standardisation_and_five_unified_management():
    clinic = hospital(institution_type=InstitutionType.village_clinic, beds=0)
    assert codes(clinic) == ["village_standardised", "village_five_unified"]
    assert codes(replace(clinic, village_standardised=True, village_five_unified=True)) == []
    # Other types are not asked.
    assert codes(hospital(institution_type=InstitutionType.township_health_center)) == []


def test_internet_hospitals_apply_through_their_physical_hospital():
    internet = ApplicantFacts(
        kind=ApplicantKind.medical_institution,
        institution_type=InstitutionType.internet_hospital,
        opened_on=date(2026, 6, 1),
    )
    assert codes(internet) == ["physical_hospital"]
    assert codes(replace(internet, physical_hospital_code="H12010100001")) == []


def test_every_unmet_condition_is_reported_not_just_the_first():
    bare = ApplicantFacts(
        kind=ApplicantKind.medical_institution,
        institution_type=InstitutionType.village_clinic,
        opened_on=date(2026, 5, 1),
        beds=120,
    )
    assert codes(bare) == [
        "operating_months",
        "physician",
        "responsible_head",
        "insurance_staff",
        "insurance_department",
        "full_time_insurance_staff",
        "systems",
        "information_system",
        "national_codes",
        "purchasing_platform",
        "equipment",
        "village_standardised",
        "village_five_unified",
    ]


# ----------------------------------------------------------------------- retail pharmacies


@pytest.mark.parametrize(("months", "expected"), [(11, ["pharmacist"]), (12, []), (24, [])])
def test_pharmacist_contract_of_at_least_one_year(months, expected):
    assert codes(pharmacy(pharmacists=(Staffer(registered_here=True, contract_months=months),))) == expected


def test_the_pharmacist_must_be_registered_here_and_in_contract():
    elsewhere = pharmacy(pharmacists=(Staffer(registered_here=False, contract_months=36),))
    expired = pharmacy(pharmacists=(Staffer(registered_here=True, contract_months=36, in_contract=False),))
    unmet = unmet_conditions(elsewhere, ON)
    assert [c.code for c in unmet] == ["pharmacist"]
    assert "符合条件 0 名，共申报 1 名" in unmet[0].message
    assert codes(expired) == ["pharmacist"]
    assert codes(pharmacy(pharmacists=())) == ["pharmacist"]


@pytest.mark.parametrize(
    ("staff", "expected"),
    [
        ((Staffer(False, 12),), ["insurance_staff"]),
        ((Staffer(False, 12), Staffer(False, 12)), []),
        ((Staffer(False, 12), Staffer(False, 12), Staffer(False, 30)), []),
        ((Staffer(False, 12), Staffer(False, 11)), ["insurance_staff"]),
        ((Staffer(False, 12), Staffer(False, 24, in_contract=False)), ["insurance_staff"]),
    ],
)
def test_at_least_two_insurance_staff_with_one_year_contracts(staff, expected):
    assert codes(pharmacy(insurance_staff=staff)) == expected


def test_pharmacy_zoning_labels_and_its_own_list_of_rules():
    facts = pharmacy(drug_zoning_and_labels=False, systems=frozenset({"finance", "statistics"}))
    unmet = {c.code: c.message for c in unmet_conditions(facts, ON)}
    assert set(unmet) == {"drug_zoning", "systems"}
    assert unmet["systems"].endswith("医保药品管理制度、医保人员管理制度、医保费用结算制度")


# ----------------------------------------------------------------------- long-term care


@pytest.mark.parametrize("make", [nursing, assessment])
def test_a_long_term_care_penalty_in_the_last_year(make):
    assert codes(make(insurance_penalty_last_year=True)) == ["insurance_penalty"]


@pytest.mark.parametrize("make", [nursing, assessment])
def test_long_term_care_system_connection(make):
    assert codes(make(information_system_connected=False)) == ["ltc_system"]


def test_nursing_institution_needs_medical_qualification_or_a_partner():
    assert codes(nursing(medical_qualification_or_partner=False)) == ["medical_qualification"]


def test_home_medical_nursing_must_come_from_a_qualified_medical_institution():
    assert codes(nursing(offers_home_medical_nursing=True)) == ["home_nursing_provider"]
    assert codes(nursing(offers_home_medical_nursing=True, home_nursing_by_qualified_provider=True)) == []


def test_a_designated_medical_institution_does_not_apply_as_a_nursing_institution():
    assert codes(nursing(already_designated_medical=True)) == ["already_designated_medical"]


def test_an_assessment_institution_that_is_also_a_nursing_institution_is_unmet():
    unmet = unmet_conditions(assessment(also_nursing_institution=True), ON)
    assert [c.code for c in unmet] == ["also_nursing_institution"]
    assert "不得同时作为长期护理保险定点护理机构" in unmet[0].message


def test_an_assessment_institution_needs_a_professional_team():
    assert codes(assessment(professional_assessment_team=False)) == ["assessment_team"]


def test_hospital_only_conditions_are_not_asked_of_long_term_care_kinds():
    # No physicians, beds, equipment or purchasing platform in the long-term-care lists.
    assert codes(nursing(first_registered_physicians=0, beds=500, equipment=frozenset())) == []


# ----------------------------------------------------------------------- bad data


def test_inconsistent_facts_are_refused_with_422():
    with pytest.raises(DomainError) as missing_type:
        ApplicantFacts(kind=ApplicantKind.medical_institution, institution_type=None, opened_on=ON)
    assert missing_type.value.status == 422 and missing_type.value.code == "invalid_facts"
    with pytest.raises(DomainError):
        ApplicantFacts(
            kind=ApplicantKind.retail_pharmacy, institution_type=InstitutionType.clinic, opened_on=ON
        )
    with pytest.raises(DomainError) as unknown:
        hospital(systems=frozenset({"insurance", "astrology"}))
    assert "astrology" in unknown.value.detail
    with pytest.raises(DomainError):
        hospital(beds=-1)
    with pytest.raises(DomainError):
        ApplicantFacts(kind="hospital", institution_type=None, opened_on=ON)  # type: ignore[arg-type]


def test_plain_strings_and_lists_become_enums_and_immutable_values():
    facts = ApplicantFacts(
        kind="retail_pharmacy",  # type: ignore[arg-type]
        institution_type=None,
        opened_on=OPENED_LONG_AGO,
        systems=["finance"],  # type: ignore[arg-type]
        pharmacists=[Staffer(True, 12)],  # type: ignore[arg-type]
    )
    assert facts.kind is ApplicantKind.retail_pharmacy
    assert facts.systems == frozenset({"finance"})
    assert facts.pharmacists == (Staffer(True, 12),)


# ----------------------------------------------------------------------- materials


def test_pharmacy_materials_leave_out_what_the_office_fetches_itself():
    materials = required_materials(ApplicantKind.retail_pharmacy)
    assert materials[0] == "定点零售药店申请表"
    assert DRUG_LICENCE not in materials and PHARMACY_REGISTRATION not in materials
    assert "法定代表人、主要负责人或实际控制人身份证复印件" in materials
    assert "执业药师资格证书或药学技术人员相关证书及其劳动合同复印件" in materials
    assert "医保专（兼）职管理人员的劳动合同复印件" in materials
    assert "纳入定点后使用医疗保障基金的预测性分析报告" in materials
    assert len(materials) == 7
    everything = required_materials(ApplicantKind.retail_pharmacy, fetchable=frozenset())
    assert DRUG_LICENCE in everything and len(everything) == 9


def test_medical_materials_and_the_military_variant():
    civilian = required_materials(ApplicantKind.medical_institution, InstitutionType.general_hospital)
    assert civilian[0] == "定点医疗机构申请表" and HOSPITAL_LICENCE not in civilian and len(civilian) == 5
    military = required_materials(
        ApplicantKind.medical_institution, InstitutionType.general_hospital, military=True
    )
    assert MILITARY_LICENCE in military and len(military) == 7


def test_long_term_care_materials_are_the_agreement_copies():
    assert required_materials(ApplicantKind.ltc_nursing) == [NURSING_AGREEMENT]
    assert "5份" in NURSING_AGREEMENT
    assert required_materials(ApplicantKind.disability_assessment) == [ASSESSMENT_AGREEMENT]
    assert "10份" in ASSESSMENT_AGREEMENT
