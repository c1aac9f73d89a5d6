"""What registration knows of designated institutions (from facility's events), and the checks on them."""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import Invalid

PROGRAMME_NAMES = {
    "tb_designated": "结核病定点",
    "maternity": "生育保险定点",
    "special_disease": "门诊特定疾病",
    "reformed_level2_outpatient": "改革二级医院门（急）诊",
    "cross_province_direct": "跨省异地就医直接结算",
    "long_term_care": "长期护理保险",
}


@dataclass(frozen=True)
class KnownFacility:
    code: str
    name: str
    kind: str
    level: int | None
    office_code: str
    programmes: frozenset[str]
    status: str
    version: int


def require_designated(
    facility: KnownFacility | None,
    code: str,
    field: str,
    programme: str | None = None,
    level: int | None = None,
) -> KnownFacility:
    """The facility, if designated (and in the programme, at the level); otherwise a clear refusal.

    A code this service has not heard of is said to be unknown, not guessed to be invalid: the
    registry's event may simply not have arrived yet.
    """
    if facility is None:
        raise Invalid("facility_unknown", "尚未收到该机构的定点信息", f"机构 {code} 不在定点医药机构名录中（或名录信息尚未同步）",
                      errors=[{"field": field, "message": "未知的定点医药机构"}])  # fmt: skip
    if facility.status != "designated":
        state = {"suspended": "已暂停医保服务", "terminated": "已解除定点协议"}.get(
            facility.status, facility.status
        )
        raise Invalid("facility_not_designated", "该机构当前不是定点医药机构", f"{facility.name}{state}",
                      errors=[{"field": field, "message": state}])  # fmt: skip
    if programme is not None and programme not in facility.programmes:
        name = PROGRAMME_NAMES.get(programme, programme)
        raise Invalid("facility_programme_missing", "该机构不承担此项业务", f"{facility.name}不是{name}定点机构",
                      errors=[{"field": field, "message": f"需为{name}定点机构"}])  # fmt: skip
    if level is not None and facility.level != level:
        raise Invalid("facility_level_mismatch", "机构级别不符合要求", f"{facility.name}为{facility.level}级，需为{level}级",
                      errors=[{"field": field, "message": f"需为{level}级医疗机构"}])  # fmt: skip
    return facility
