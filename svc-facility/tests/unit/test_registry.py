"""Registry records: suspension, reinstatement, renewal, change of details, termination."""

from dataclasses import replace
from datetime import date

import pytest

from shared.errors import DomainError
from svc_facility.domain.registry import RegistryRecord

HOSPITAL = RegistryRecord(
    code="H12010100001", name="天津市示例医院", kind="medical_institution", institution_type="general_hospital", level=2,
    district_code="120101", office_code="120101", programmes=("maternity", "reformed_level2_outpatient"),
    physical_hospital_code=None, agreement_number="A-1", agreement_valid_from=date(2025, 1, 1),
    agreement_valid_to=date(2026, 12, 31), status="designated", version=3,
)  # fmt: skip


def test_suspension_and_reinstatement_move_the_status_and_version_and_are_announced() -> None:
    suspended, event = HOSPITAL.suspended("违规")
    assert (suspended.status, suspended.version, event.status, event.reason) == (
        "suspended",
        4,
        "suspended",
        "违规",
    )
    reinstated, event = suspended.reinstated()
    assert (reinstated.status, reinstated.version, event.status) == ("designated", 5, "designated")
    with pytest.raises(DomainError) as caught:
        HOSPITAL.reinstated()
    assert caught.value.code == "invalid_transition"
    with pytest.raises(DomainError):
        suspended.suspended("again")


def test_renewal_only_before_the_agreement_ends_and_only_forward() -> None:
    renewed, event = HOSPITAL.renewed(date(2028, 12, 31), on=date(2026, 12, 31))
    assert renewed.agreement_valid_to == date(2028, 12, 31) and event.agreement_valid_to == date(2028, 12, 31)
    with pytest.raises(DomainError) as late:
        HOSPITAL.renewed(date(2028, 12, 31), on=date(2027, 1, 1))
    assert late.value.code == "agreement_expired"
    with pytest.raises(DomainError) as backwards:
        HOSPITAL.renewed(date(2026, 6, 30), on=date(2026, 1, 1))
    assert backwards.value.code == "invalid_agreement"


def test_a_change_of_details_keeps_the_rest_and_a_terminated_record_is_closed() -> None:
    changed, event = HOSPITAL.changed(name=None, level=None, programmes=("maternity",))
    assert (
        changed.programmes == ("maternity",)
        and changed.name == HOSPITAL.name
        and event.programmes == ["maternity"]
    )
    with pytest.raises(DomainError) as nothing:
        HOSPITAL.changed(None, None, None)
    assert nothing.value.code == "nothing_to_change"
    terminated, event = HOSPITAL.terminated("解除")
    assert terminated.status == "terminated" and event.reason == "解除"
    with pytest.raises(DomainError):
        terminated.changed("新名称", None, None)
    with pytest.raises(DomainError):
        replace(HOSPITAL, status="terminated").terminated("again")
