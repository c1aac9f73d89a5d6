"""The service catalogue is complete: materials and channels as the guides list them, Tangshan's items from its flow
charts, and the API operations that carry each item out. (That each operation exists in the merged OpenAPI is
checked through the gateway: tests-e2e/test_catalogue.py.)"""

from __future__ import annotations

from shared.directory import catalogue_item, load_catalogue

# Items the seeds give no materials list for, and why (the item says so itself).
NO_GUIDE = {"tj-2021-01", "tj-2021-02", "tj-2021-03", "tj-2021-04", "tj-2021-05"}  # not in seed 000's guides
DELEGATED = {
    "qhd-132036009001",
    "qhd-132036009002",
    "qhd-132036010001",
    "qhd-132036010002",
}  # seed 004: "按…规定执行"
# Items this platform does not carry out (yet): no operation of the API does them.
NOT_CARRIED_OUT = NO_GUIDE | {
    "qhd-132036001006", "qhd-township-02", "qhd-township-06", "ts-06",  # a resident's personal details changed
    "qhd-132036008001", "ts-18",  # assistance recipients' contribution subsidy
}  # fmt: skip


def test_every_item_has_its_materials_and_channels_or_says_why_not() -> None:
    for item in load_catalogue():
        if item.id in NO_GUIDE:
            assert not item.materials and item.note and "seed 000 has no guide" in item.note, item.id
        elif item.id in DELEGATED:
            assert item.channels and (item.materials_text or item.note), item.id
        else:
            assert item.materials and item.channels, item.id


def test_every_item_names_the_operations_that_carry_it_out_except_those_the_platform_does_not_do() -> None:
    items = load_catalogue()
    assert {i.id for i in items if not i.operations} == NOT_CARRIED_OUT
    assert all(op.split("_")[0] in {"claims", "facility", "registration", "settlement", "transfer"}
               for i in items for op in i.operations)  # fmt: skip


def test_tianjin_items_carry_the_materials_and_channels_of_their_guide() -> None:
    hospitalisation = catalogue_item("tj-2021-08")
    assert hospitalisation is not None
    assert hospitalisation.materials[2] == "3．住院证原件（从医疗机构取得）"
    assert hospitalisation.channels == ("定点医药机构联网办理", "医保分中心窗口", "天津政务网“网上办事大厅”")
    certificate = catalogue_item("tj-2021-27")
    assert certificate and "“金医宝”手机APP" in certificate.channels and "个人网厅" in certificate.channels
    allowance = catalogue_item("tj-2021-25")
    assert allowance and allowance.materials[0] == "网上申报无需提供材料，分中心柜台申报的提供如下材料："
    assert "claims_maternity_allowance" in allowance.operations
    assert allowance.note and "《生育保险待遇核准支付——生育津贴支付》" in allowance.note


def test_tangshan_has_the_items_of_its_twenty_flow_charts() -> None:
    tangshan = [i for i in load_catalogue() if i.source == "seed 003"]
    assert [i.seq for i in tangshan] == list(range(1, 21))
    assert all(i.region == "唐山市" and i.id == f"ts-{i.seq:02d}" for i in tangshan)
    reimbursement = catalogue_item("ts-14")
    assert (
        reimbursement
        and reimbursement.time_limit.value == 30
        and reimbursement.time_limit.kind == "working_days"
    )
    assert "claims_reimbursements_file_claim" in reimbursement.operations
    remote = catalogue_item("ts-12")
    assert remote and "“河北省医疗保障局”微信公众号" in remote.channels
    assert catalogue_item("ts-15").time_limit.value == 20  # type: ignore[union-attr]
