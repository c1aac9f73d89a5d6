"""The office directory and the service catalogue (shared.directory), and the sample registry (svc_facility.sample).

Where the seed documents are present (``<repo>/../shared/seeds``) the data are compared with them, parsed here
independently of the extraction; those tests are skipped, with the reason, only when the folder is absent.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.directory import (
    FLAG_NAMES,
    CatalogueItem,
    Office,
    TimeLimit,
    catalogue_item,
    load_catalogue,
    load_offices,
    office_by_code,
)
from svc_facility.sample import RegistryEntry, load_registry_sample

REPO = Path(__file__).resolve().parents[3]
SEEDS = REPO.parent / "shared" / "seeds"
SEED_000 = SEEDS / "000_29dfec49ff88617f.txt"
SEED_002 = SEEDS / "002_d37b930ad577546a.txt"

SUBCENTRE_TABLE = "【分中心办理机构及咨询投诉】"
EXPECTED_SUBCENTRES = 21  # counted in seed 000: the same 21 rows after each of its 29 guides


def seed_lines(path: Path) -> list[str]:
    if not path.is_file():
        pytest.skip(f"seed document not found at {path} (the CI machine has it at <repo>/../shared/seeds)")
    return path.read_text(encoding="utf-8").splitlines()


def table_cells(lines: list[str]) -> list[list[str]]:
    """Flattened table: a cell starts on a line beginning with a tab; untabbed non-empty lines continue it."""
    cells: list[list[str]] = []
    for line in lines:
        if line.startswith("\t"):
            cells.append([line.strip()] if line.strip() else [])
        elif line.strip() and cells:
            cells[-1].append(line.strip())
    return cells


def subcentre_tables() -> list[list[list[list[str]]]]:
    """Every occurrence of the sub-centre table of seed 000, as rows of 5 cells (header row dropped)."""
    lines = seed_lines(SEED_000)
    tables = []
    for start, line in enumerate(lines):
        if line.strip() != SUBCENTRE_TABLE:
            continue
        end = next(i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("【"))
        cells = table_cells(lines[start + 1 : end])
        assert ["".join(c) for c in cells[:5]] == [
            "办理机构",
            "咨询、受理地点及窗口号",
            "大厅办公时间",
            "咨询电话",
            "监督投诉电话",
        ]
        body = cells[5:]
        assert len(body) % 5 == 0
        tables.append([body[i : i + 5] for i in range(0, len(body), 5)])
    return tables


def squeeze(parts: list[str] | str | None) -> str:
    text = "".join(parts) if isinstance(parts, list) else (parts or "")
    return re.sub(r"\s+", "", text)


def tianjin_subcentres() -> list[Office]:
    return [o for o in load_offices() if o.region == "天津市" and o.level == "district"]


# -------------------------------------------------------------------------------------------------- offices


def test_tianjin_has_the_21_sub_centres_of_seed_000() -> None:
    subcentres = tianjin_subcentres()
    assert len(subcentres) == EXPECTED_SUBCENTRES
    assert all(o.name.endswith("分中心") and o.source == "seed 000" for o in subcentres)
    assert all(o.parent_code == "120000" for o in subcentres)


def test_the_seed_lists_21_sub_centres_and_every_repetition_agrees() -> None:
    tables = subcentre_tables()
    assert len(tables) == 29  # one table after each guide
    first = tables[0]
    assert len(first) == EXPECTED_SUBCENTRES
    for table in tables[1:]:
        assert [[squeeze(c) for c in row] for row in table] == [[squeeze(c) for c in row] for row in first]


def test_sub_centre_names_are_the_seed_list_in_seed_order() -> None:
    seed_names = [row[0][0] for row in subcentre_tables()[0]]
    assert [o.name for o in tianjin_subcentres()] == seed_names


def test_sub_centre_addresses_hours_and_phones_are_the_seeds() -> None:
    for row, office in zip(subcentre_tables()[0], tianjin_subcentres(), strict=True):
        name, address, hours, consultation, complaint = row
        assert office.name == name[0]
        assert squeeze(office.address_as_written) == squeeze(address)
        assert squeeze(office.hours) == squeeze(hours)
        assert office.consultation_phone == "".join(consultation)
        assert office.complaint_phone == "".join(complaint)
        # the address without its window numbers, and the window numbers, make up the seed's cell
        assert office.windows and office.windows.endswith("窗口")
        assert office.windows not in (office.address or "")
        rest = squeeze(address).replace(office.windows, "", 1).replace("（）", "").replace("()", "")
        assert rest == squeeze(office.address)


def test_heping_sub_centre() -> None:
    heping = office_by_code("120101")
    assert heping is not None and heping.name == "和平分中心"
    assert heping.consultation_phone == "022-23226315"
    assert heping.complaint_phone == "022-23229916"
    assert heping.hours == "工作日（上午8:30-12:00，下午13:30-17:00）"
    assert heping.windows == "3号-5号窗口"
    assert heping.phones == {"consultation": ("022-23226315",), "complaint": ("022-23229916",)}


def test_district_codes_and_assigned_codes() -> None:
    by_name = {o.name: o for o in tianjin_subcentres()}
    divisions = {
        "和平": "120101", "河东": "120102", "河西": "120103", "南开": "120104", "河北": "120105", "红桥": "120106",
        "东丽": "120110", "西青": "120111", "津南": "120112", "北辰": "120113", "武清": "120114", "宝坻": "120115",
        "宁河": "120117", "静海": "120118", "蓟州": "120119",
    }  # fmt: skip
    for district, code in divisions.items():
        office = by_name[f"{district}分中心"]
        assert (office.code, office.district_code, office.code_assigned) == (code, code, False)
    assigned = [o for o in tianjin_subcentres() if o.code_assigned]
    assert {o.name for o in assigned} == {
        "塘沽分中心",
        "汉沽分中心",
        "大港分中心",
        "开发区分中心",
        "保税区分中心",
        "高新区分中心",
    }
    assert all(re.fullmatch(r"12019\d", o.code) and o.district_code == "120116" and o.note for o in assigned)


def test_office_codes_have_their_levels_digits_and_are_unique_and_parents_exist() -> None:
    offices = load_offices()
    codes = [o.code for o in offices]
    assert len(codes) == len(set(codes))
    digits = {"city": 6, "district": 6, "township": 9, "village": 12}
    assert all(re.fullmatch(rf"\d{{{digits[o.level]}}}", o.code) for o in offices)
    assert all(o.parent_code is None or office_by_code(o.parent_code) is not None for o in offices)
    assert office_by_code("999999") is None


def test_city_centres_of_the_three_regions() -> None:
    tianjin, tangshan = office_by_code("120000"), office_by_code("130200")
    qinhuangdao = office_by_code("130300")
    assert tianjin and tianjin.name == "市医疗保障基金管理中心" and tianjin.level == "city"
    assert "市医保中心" in tianjin.aliases
    assert tangshan and tangshan.region == "唐山市" and tangshan.source == "seed 003"
    assert (
        tangshan.consultation_phone == "0315-5908000"
        and tangshan.address
        and "丹凤路12号" in tangshan.address
    )
    assert tangshan.name_assigned  # seed 003 never names the office
    assert qinhuangdao and qinhuangdao.name == "市医疗保险基金管理中心" and qinhuangdao.source == "seed 004"
    qhd_districts = {o.name for o in load_offices() if o.parent_code == "130300"}
    assert {"开发区社保中心", "北戴河新区健康产业促进局", "海港区医疗保险基金管理中心"} <= qhd_districts
    assert {o.level for o in load_offices() if o.region == "秦皇岛市"} == {
        "city",
        "district",
        "township",
        "village",
    }


def test_every_office_has_an_address_and_hours_or_says_why_not() -> None:
    for office in tianjin_subcentres():
        assert office.address and office.hours and office.consultation_phone and office.complaint_phone
    for office in load_offices():
        if office.address is None or office.hours is None:
            assert office.note and re.search(r"no address|no hours", office.note, re.IGNORECASE), office.code


def test_office_validation() -> None:
    good = office_by_code("120101").model_dump()  # type: ignore[union-attr]
    two = Office.model_validate({**good, "complaint_phone": ["022-23229916", "022-23229917"]})
    assert two.phones["complaint"] == ("022-23229916", "022-23229917")
    for bad in (
        {"code": "12010"},
        {"consultation_phone": "23226315"},
        {"complaint_phone": "022-2322x916"},
        {"parent_code": None},
        {"code_assigned": True, "note": None},
        {"hours": None, "note": None},
        {"source": "the internet"},
    ):
        with pytest.raises(ValidationError):
            Office.model_validate({**good, **bad})


# ------------------------------------------------------------------------------------------------ catalogue


def seed_002_rows() -> list[list[str]]:
    cells = [" ".join(c).strip() for c in table_cells(seed_lines(SEED_002))]
    header, body = cells[:18], cells[18:]
    assert header[7:] == list(FLAG_NAMES.values())
    body = [c for c in body if not c.startswith("注：")]
    return [body[i : i + 18] for i in range(0, len(body), 18)]


def test_catalogue_has_all_32_items_of_seed_002() -> None:
    tianjin = [i for i in load_catalogue() if i.source == "seed 002"]
    assert [i.seq for i in tianjin] == list(range(1, 33))
    assert all(i.region == "天津市" for i in tianjin)
    assert catalogue_item("tj-2021-26").sub_item == "转移接续手续办理"  # type: ignore[union-attr]


def test_seed_002_items_names_limits_and_flags_are_the_seeds() -> None:
    rows = seed_002_rows()
    assert len(rows) == 32
    keys = list(FLAG_NAMES)
    for row, item in zip(rows, [i for i in load_catalogue() if i.source == "seed 002"], strict=True):
        as_listed = (str(item.seq), item.responsible, item.name, item.sub_item, item.level, item.supervisor)
        assert as_listed == tuple(row[:6])
        assert item.time_limit.text == row[6]
        assert set(item.flags) == {keys[k] for k, mark in enumerate(row[7:]) if mark == "√"}


def test_seed_002_known_rows() -> None:
    long_stay = catalogue_item("tj-2021-06")
    assert long_stay and long_stay.sub_item == "跨省异地长期居住人员备案"
    assert set(long_stay.flags) == set(FLAG_NAMES) - {"missing_materials_acceptance"}
    temporary = catalogue_item("tj-2021-07")
    assert temporary and "automatic_approval" not in temporary.flags and "cross_province" in temporary.flags
    designation = catalogue_item("tj-2021-31")
    assert designation and designation.time_limit == TimeLimit(kind="months", value=3, text="不超过3个月")
    assert catalogue_item("tj-2021-28").time_limit.value == 15  # type: ignore[union-attr]
    assert not any("missing_materials_acceptance" in i.flags for i in load_catalogue())  # no ✓ in that column


def test_seed_004_items() -> None:
    qhd = [i for i in load_catalogue() if i.source == "seed 004"]
    coded = [i for i in qhd if i.item_code]
    assert len(coded) == 25
    assert all(i.item_code.startswith("132036") for i in coded)  # type: ignore[union-attr]
    assert len([i for i in qhd if i.level == "乡、村"]) == 10
    transfer = catalogue_item("qhd-132036003002")
    assert (
        transfer and transfer.sub_item == "转移接续手续办理" and transfer.name == "基本医疗保险关系转移接续"
    )
    assert transfer.time_limit.kind == "working_days" and transfer.time_limit.value == 20
    assert "《参保凭证》（含电子《参保凭证》）" in transfer.materials
    unit = catalogue_item("qhd-132036001001")
    assert unit and unit.time_limit.kind == "immediate" and unit.channels == ("窗口", "网上办理")
    assert len(unit.materials) == 3
    designation = catalogue_item("qhd-132036009002")
    assert designation and designation.time_limit.kind == "none" and designation.note


def test_catalogue_ids_and_codes_are_unique_and_flags_known() -> None:
    items = load_catalogue()
    assert len({i.id for i in items}) == len(items)
    codes = [i.item_code for i in items if i.item_code]
    assert len(set(codes)) == len(codes)
    assert all(set(i.flags) <= set(FLAG_NAMES) for i in items)
    assert catalogue_item("no-such-item") is None


def test_catalogue_validation() -> None:
    good = catalogue_item("qhd-132036003002").model_dump()  # type: ignore[union-attr]
    for bad in (
        {"id": "Not A Slug"},
        {"item_code": "13203600300"},
        {"flags": ["online", "online"]},
        {"flags": ["fast"]},
        {"time_limit": {"kind": "working_days", "value": None, "text": "?"}},
        {"time_limit": {"kind": "immediate", "value": 1, "text": "即时办结"}},
        {"main_item_code": "13203600900Y"},  # 132036003002 is not under main item 009
    ):
        with pytest.raises(ValidationError):
            CatalogueItem.model_validate({**good, **bad})


# ------------------------------------------------------------------------------------------------- registry


def test_registry_sample_is_labelled_and_every_entry_validates() -> None:
    text = resources.files("svc_facility.data").joinpath("registry_sample.json").read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["sample"] is True and "SAMPLE" in document["description"]
    assert [RegistryEntry.model_validate(e) for e in document["entries"]] == list(load_registry_sample())
    assert load_registry_sample() is load_registry_sample()


def test_registry_sample_covers_kinds_levels_types_and_districts() -> None:
    entries = load_registry_sample()
    assert 25 <= len(entries) <= 40
    kinds = {"medical_institution", "retail_pharmacy", "ltc_nursing", "disability_assessment"}
    assert {e.kind for e in entries} == kinds
    assert {e.level for e in entries if e.kind == "medical_institution"} >= {1, 2, 3}
    types = {e.institution_type for e in entries}
    assert types >= {
        "general_hospital", "specialist_hospital", "tcm_hospital", "community_health_center",
        "village_clinic", "dialysis_center", "internet_hospital",
    }  # fmt: skip
    assert len({e.district_code for e in entries}) >= 6
    assert {e.status for e in entries} == {"designated", "suspended", "terminated"}
    assert sum(e.status == "suspended" for e in entries) == 1
    assert sum(e.status == "terminated" for e in entries) == 1
    subcentres = {o.code for o in tianjin_subcentres()}
    assert all(e.office_code in subcentres for e in entries)
    codes = [e.code for e in entries]
    assert len(set(codes)) == len(codes)
    internet = [e for e in entries if e.institution_type == "internet_hospital"]
    assert internet and all(e.physical_hospital_code in codes for e in internet)
    # another designated reformed level-2 hospital besides the demo one (residents may change their choice)
    reformed = [
        e for e in entries if "reformed_level2_outpatient" in e.programmes and e.status == "designated"
    ]
    assert len(reformed) >= 2 and all(e.level == 2 for e in reformed)


def test_registry_sample_has_the_demo_hospital() -> None:
    demo = next(e for e in load_registry_sample() if e.code == "H12010100001")
    assert (demo.name, demo.kind) == ("天津市示例医院", "medical_institution")
    assert (demo.institution_type, demo.level) == ("general_hospital", 2)
    assert (demo.district_code, demo.office_code, demo.status) == ("120101", "120101", "designated")
    programmes = ("maternity", "special_disease", "reformed_level2_outpatient", "cross_province_direct")
    assert demo.programmes == programmes


def test_registry_entry_validation() -> None:
    demo = next(e for e in load_registry_sample() if e.code == "H12010100001").model_dump()
    for bad in (
        {"code": "P12010100001"},  # a pharmacy prefix on a medical institution
        {"code": "H12010300001"},  # district 120103 in the code, 120101 in the entry
        {"code": "H1201010001"},
        {"level": 4},
        {"institution_type": None},
        {"programmes": ["dentistry"]},
        {"programmes": ["maternity", "maternity"]},
        {"status": "pending"},
        {"district_code": "12010A"},
        {"institution_type": "internet_hospital"},  # without its physical hospital
        {"physical_hospital_code": "H12010100002"},  # only internet hospitals have one
        {"agreement": {"number": "x", "valid_from": "2027-01-01", "valid_to": "2026-01-01"}},
    ):
        with pytest.raises(ValidationError):
            RegistryEntry.model_validate({**demo, **bad})
    pharmacy = {**demo, "code": "P12010100009", "kind": "retail_pharmacy"}
    pharmacy.update(institution_type=None, level=None)
    assert RegistryEntry.model_validate(pharmacy).kind == "retail_pharmacy"
    with pytest.raises(ValidationError):
        RegistryEntry.model_validate({**pharmacy, "level": 1})


def test_the_designation_item_limit_comes_from_the_catalogue() -> None:
    from svc_facility.usecases.applications import item_months

    assert item_months("medical_institution") == 3 and item_months("retail_pharmacy") == 3
    assert item_months("ltc_nursing") is None  # not in the catalogue: the domain's labelled sample applies
