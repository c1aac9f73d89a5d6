"""Materials told all at once, commitments only where the catalogue allows, the proxy's own ID."""

from __future__ import annotations

import pytest

from shared.directory import load_catalogue
from shared.errors import DomainError
from svc_registration.domain.materials import ITEMS, Form, Item, Material, check_materials


def fields(problem: DomainError) -> set[str]:
    return {e["field"] for e in problem.errors or []}


def test_every_item_follows_a_catalogue_item() -> None:
    catalogue = {c.id for c in load_catalogue()}
    assert all(item.catalogue_id in catalogue for item in ITEMS.values())


def test_all_missing_materials_are_told_at_once() -> None:
    with pytest.raises(DomainError) as refused:
        check_materials(ITEMS["unit_enrollment"], {"unit_registration_form": Form.original}, by_proxy=False)
    assert refused.value.code == "materials_missing" and refused.value.status == 422
    assert fields(refused.value) == {
        "materials.credit_code_certificate",
        "materials.legal_representative_id_copy",
    }
    assert len(refused.value.extra["required_materials"]) == 3


def test_a_complete_set_passes_and_a_proxy_adds_their_own_id() -> None:
    given = {"id_document": Form.original}
    check_materials(ITEMS["resident_enrollment"], given, by_proxy=False)
    with pytest.raises(DomainError) as refused:
        check_materials(ITEMS["resident_enrollment"], given, by_proxy=True)
    assert fields(refused.value) == {"materials.proxy_id_document"}
    check_materials(ITEMS["resident_enrollment"], {**given, "proxy_id_document": Form.copy}, by_proxy=True)


def test_a_commitment_replaces_a_paper_only_where_the_item_allows() -> None:
    with pytest.raises(DomainError) as refused:
        check_materials(
            ITEMS["termination_death"],
            {"id_document_copy": Form.copy, "death_certificate": Form.commitment},
            by_proxy=False,
        )
    assert fields(refused.value) == {"materials.death_certificate"}
    # An item of the catalogue marked 承诺制 (the remote-care filing, tj-2021-07) takes one.
    committed = Item(
        "remote_care", "跨省临时外出就医人员备案", "tj-2021-07", (Material("referral", "转诊单"),)
    )
    check_materials(committed, {"referral": Form.commitment}, by_proxy=False)


def test_papers_of_another_item_are_named() -> None:
    with pytest.raises(DomainError) as refused:
        check_materials(
            ITEMS["resident_enrollment"],
            {"id_document": Form.original, "wage_proof": Form.copy},
            by_proxy=False,
        )
    assert fields(refused.value) == {"materials.wage_proof"}
