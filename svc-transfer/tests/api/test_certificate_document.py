"""The 参保凭证 carries what the paper document carries (sex, the issuing office's address and telephone,
the handling clerk, a verification code) and anyone holding it checks the code on a public page that
tells validity but never whom the certificate names."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from shared.identity import resident_id_facts
from svc_transfer.domain.certificate import CODE_ALPHABET, normal_code

from .conftest import new_person

CERTIFICATES = "/api/v1/transfer/certificates"
VERIFY = "/api/v1/transfer/public/certificates"


def issued_certificate(office, district: str = "120101") -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    id_number = new_person(district)
    office.covered(id_number, district, date(2026, 3, 1), date(2026, 12, 31), stopped_on=date(2026, 11, 30))
    clerk = office.staff(district, "district")
    issued = office.client.post(
        CERTIFICATES, json={"person": {"id_number": id_number, "name": "迁移人"}}, headers=clerk
    )
    assert issued.status_code == 201, issued.text
    return id_number, issued.json()


def test_a_certificate_names_the_sex_the_issuing_office_with_address_and_telephone_and_the_clerk(
    office,
) -> None:  # type: ignore[no-untyped-def]
    id_number, certificate = issued_certificate(office, "120101")
    assert certificate["sex"] == resident_id_facts(id_number).sex  # the record has none: the ID encodes it
    assert certificate["office_name"] == "和平分中心"
    assert (
        certificate["office_address"] == "天津市和平区新兴路天赐园8号楼底商北侧三楼"
    )  # the office directory
    assert certificate["office_phone"] == "022-23226315"
    assert certificate["clerk"] == "staff-120101"
    code = certificate["verification_code"]
    assert len(normal_code(code)) == 16 and set(normal_code(code)) <= set(CODE_ALPHABET)

    printed = office.client.get(
        f"{CERTIFICATES}/{certificate['number']}/document.pdf", headers=office.staff()
    )
    assert printed.status_code == 200
    text = " ".join(PdfReader(io.BytesIO(printed.content)).pages[0].extract_text().split())
    sex = {"male": "男", "female": "女"}[certificate["sex"]]
    for shown in (f"性别：{sex}", "天津市和平区新兴路天赐园8号楼底商北侧三楼", "022-23226315",
                  "经办人：staff-120101", f"核验码：{code}", normal_code(code)):  # fmt: skip
        assert shown in text, (shown, text)


def test_the_public_check_of_a_code_tells_validity_and_no_personal_data(office) -> None:  # type: ignore[no-untyped-def]
    id_number, certificate = issued_certificate(office, "120103")
    code = certificate["verification_code"]
    checked = office.client.get(f"{VERIFY}/{code}")  # no token
    assert checked.status_code == 200, checked.text
    answer = checked.json()
    assert answer == {
        "number": certificate["number"], "office_code": "120103", "office_name": certificate["office_name"],
        "issued_on": certificate["issued_on"], "validity": "valid", "validity_title": "有效", "reissued": 0,
        "last_reissued_on": None,
    }  # fmt: skip
    assert id_number not in checked.text and "迁移人" not in checked.text
    # As printed, typed without hyphens, or in lower case: the same certificate.
    assert (
        office.client.get(f"{VERIFY}/{normal_code(code).lower()}").json()["number"] == certificate["number"]
    )

    reissued = office.client.post(
        f"{CERTIFICATES}/{certificate['number']}/reissue", headers=office.staff("120103", "district")
    )
    assert reissued.status_code == 200 and reissued.json()["verification_code"] == code  # 补办: same content
    again = office.client.get(f"{VERIFY}/{code}").json()
    assert again["validity"] == "valid" and again["reissued"] == 1 and again["last_reissued_on"]


def test_a_forged_or_mistyped_code_is_not_found(office) -> None:  # type: ignore[no-untyped-def]
    _, certificate = issued_certificate(office)
    real = normal_code(certificate["verification_code"])
    forged = real[:-1] + ("2" if real[-1] != "2" else "3")
    for code in (forged, "ABCD-EFGH-JKLM-NPQR", "x" * 40):
        answer = office.client.get(f"{VERIFY}/{code}")
        assert answer.status_code == 404, (code, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "not_found"


def test_the_sex_is_the_one_registrations_record_gives(office) -> None:  # type: ignore[no-untyped-def]
    """The record decides (a corrected record may differ from what an old ID number encodes)."""
    from shared.events.catalog import RegistrationApprovedV1
    from svc_transfer.usecases import coverage

    from .conftest import person_of

    other = new_person("120104")
    enrollment = office.covered(
        other, "120104", date(2026, 3, 1), date(2026, 12, 31), stopped_on=date(2026, 11, 30)
    )

    async def approved_with_sex(uow):  # type: ignore[no-untyped-def]
        event = RegistrationApprovedV1(
            enrollment_id=enrollment, person_id=person_of(other), office_code="120104", scheme="resident",
            tier="adult_middle", benefit_start=date(2026, 3, 1), benefit_end=date(2026, 12, 31),
            sex="female" if resident_id_facts(other).sex == "male" else "male",
        )  # fmt: skip
        await coverage.record_approved(uow, None, event)  # type: ignore[arg-type]

    office.work(approved_with_sex)  # registration's record names the sex (a redelivery updates it)
    issued = office.client.post(
        CERTIFICATES, json={"person": {"id_number": other, "name": "迁移人"}},
        headers=office.staff("120104", "district"),
    )  # fmt: skip
    assert issued.status_code == 201, issued.text
    assert issued.json()["sex"] != resident_id_facts(other).sex


def test_the_balance_is_the_personal_accounts_as_registration_booked_it_newest_entry_winning(office) -> None:  # type: ignore[no-untyped-def]
    """registration.account_credited / _debited carry the balance after each entry; an older entry
    arriving late does not undo a newer one; the certificate states the newest, the PDF prints it."""
    import uuid
    from datetime import UTC, datetime
    from decimal import Decimal

    from shared.events import Envelope
    from shared.events.catalog import AccountCreditedV1, AccountDebitedV1
    from svc_transfer.usecases import coverage

    from .conftest import person_of

    id_number = new_person("120101")
    office.covered(id_number, "120101", date(2026, 3, 1), date(2026, 12, 31), stopped_on=date(2026, 11, 30))
    person = person_of(id_number)

    def booked(event, at: datetime) -> None:  # type: ignore[no-untyped-def]
        envelope = Envelope(
            event_id=uuid.uuid4(), event_type="registration.account_credited", event_version=1,
            occurred_at=at, producer="registration", correlation_id="test", payload={},
        )  # fmt: skip
        office.work(lambda uow: coverage.record_account(uow, envelope, event))

    credited = AccountCreditedV1(
        person_id=person, office_code="120101", kind="contribution", amount=Decimal("320.00"),
        booked_on=date(2026, 10, 15), month=date(2026, 10, 1), reference="N-10", balance=Decimal("1280.50"),
        contribution_months=8,
    )  # fmt: skip
    debited = AccountDebitedV1(
        person_id=person, office_code="120101", kind="withdrawal", amount=Decimal("200.00"),
        booked_on=date(2026, 11, 2), reference="W-1", balance=Decimal("1080.50"),
    )  # fmt: skip
    booked(debited, datetime(2026, 11, 2, 3, tzinfo=UTC))
    booked(credited, datetime(2026, 10, 15, 3, tzinfo=UTC))  # older, delivered late: ignored

    issued = office.client.post(
        CERTIFICATES, json={"person": {"id_number": id_number, "name": "迁移人"}}, headers=office.staff()
    )
    assert issued.status_code == 201, issued.text
    certificate = issued.json()
    assert certificate["account_balance"] == "1080.50" and certificate["account_balance_stated"] is True
    assert "2026-11-02" in certificate["account_balance_note"]
    printed = office.client.get(
        f"{CERTIFICATES}/{certificate['number']}/document.pdf", headers=office.staff()
    )
    text = " ".join(PdfReader(io.BytesIO(printed.content)).pages[0].extract_text().split())
    assert "个人账户余额：1080.50 元" in text, text
