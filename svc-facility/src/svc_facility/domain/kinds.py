"""Who may apply for designation, what kind of institution they are, and the programmes of a facility.

Source: the Tianjin service guides in seed file 000 (医疗机构申请定点协议管理, item 002036009001;
零售药店申请定点协议管理, item 002036009002; 长护险定点护理机构申请服务协议管理; 长护险失能评定机构申请
服务协议管理) and the service catalogue in seed file 002.

Interpretations (the documents decide where the digest is vague):

- Institution types are the list under 【受理条件】一 of the medical-institution guide, one member per
  entry; an entry written with a bracket ("社区卫生服务中心（站）", "卫生所（站）", "村卫生室（所）",
  "专科疾病防治院（所、站）") is one type, as the guide writes it.
- Internet hospitals (互联网医院) are not in that list: the guide says they sign a *supplementary*
  agreement through the physical institution they rely on (依托其实体医疗机构申请签订补充协议), and their
  costs are settled with that institution. They are kept as a type so the application can name its
  physical hospital.
- Military medical institutions (经军队主管部门批准具有为民服务资质的军队医疗机构) are not a type of
  their own (a military hospital is still a general or specialist hospital); they differ only in the
  materials, see ``eligibility.required_materials(..., military=True)``.
- Three-party agreements: both long-term-care guides (定点护理机构 *and* 失能评定机构) quote 津医保规字
  〔2021〕1号 art. 18 "签订三方服务协议": the sub-centre, the commissioned long-term-care agency
  (长护险经办机构, which brings the agreement) and the institution. The digest mentions the three parties
  for nursing institutions only; the documents win, so disability-assessment institutions also need
  three parties. Medical institutions and pharmacies sign a two-party 医保协议 (office and institution).
- Copies: the agency brings 5 copies for a nursing institution and 10 for an assessment institution.
  The guides for hospitals and pharmacies give no number of copies.
- Time limits: every one of the four guides says "自接收申请材料之日起，不超过20个工作日回复受理意见".
  The whole-item limit "不超过3个月" is in file 002 for medical institutions and pharmacies only; the
  long-term-care items are not in that catalogue. Applying 3 months to them as well is
  **(not in the documents)** — a labelled sample value, passed to ``deadline.reply_clock`` as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class ApplicantKind(StrEnum):
    medical_institution = "medical_institution"  # 医疗机构 (定点医疗机构)
    retail_pharmacy = "retail_pharmacy"  # 零售药店 (定点零售药店)
    ltc_nursing = "ltc_nursing"  # 长护险定点护理机构
    disability_assessment = "disability_assessment"  # 长护险失能评定机构


KIND_NAMES: Mapping[ApplicantKind, str] = MappingProxyType(
    {
        ApplicantKind.medical_institution: "医疗机构",
        ApplicantKind.retail_pharmacy: "零售药店",
        ApplicantKind.ltc_nursing: "长期护理保险定点护理机构",
        ApplicantKind.disability_assessment: "长期护理保险失能评定机构",
    }
)


class InstitutionType(StrEnum):
    """The medical institutions that may apply (file 000, 医疗机构申请定点协议管理 【受理条件】一)."""

    general_hospital = "general_hospital"
    tcm_hospital = "tcm_hospital"
    integrated_hospital = "integrated_hospital"
    ethnic_medicine_hospital = "ethnic_medicine_hospital"
    specialist_hospital = "specialist_hospital"
    rehabilitation_hospital = "rehabilitation_hospital"
    disease_prevention_institute = "disease_prevention_institute"
    maternity_child_hospital = "maternity_child_hospital"
    community_health_center = "community_health_center"
    central_health_center = "central_health_center"
    township_health_center = "township_health_center"
    street_health_center = "street_health_center"
    outpatient_department = "outpatient_department"
    clinic = "clinic"
    health_station = "health_station"
    infirmary = "infirmary"
    village_clinic = "village_clinic"
    emergency_center = "emergency_center"
    hospice = "hospice"
    dialysis_center = "dialysis_center"
    nursing_hospital = "nursing_hospital"
    nursing_home_clinic = "nursing_home_clinic"
    internet_hospital = "internet_hospital"


TYPE_NAMES: Mapping[InstitutionType, str] = MappingProxyType(
    {
        InstitutionType.general_hospital: "综合医院",
        InstitutionType.tcm_hospital: "中医医院",
        InstitutionType.integrated_hospital: "中西医结合医院",
        InstitutionType.ethnic_medicine_hospital: "民族医医院",
        InstitutionType.specialist_hospital: "专科医院",
        InstitutionType.rehabilitation_hospital: "康复医院",
        InstitutionType.disease_prevention_institute: "专科疾病防治院（所、站）",
        InstitutionType.maternity_child_hospital: "妇幼保健院",
        InstitutionType.community_health_center: "社区卫生服务中心（站）",
        InstitutionType.central_health_center: "中心卫生院",
        InstitutionType.township_health_center: "乡镇卫生院",
        InstitutionType.street_health_center: "街道卫生院",
        InstitutionType.outpatient_department: "门诊部",
        InstitutionType.clinic: "诊所",
        InstitutionType.health_station: "卫生所（站）",
        InstitutionType.infirmary: "医务室",
        InstitutionType.village_clinic: "村卫生室（所）",
        InstitutionType.emergency_center: "独立设置的急救中心",
        InstitutionType.hospice: "安宁疗护中心",
        InstitutionType.dialysis_center: "血液透析中心",
        InstitutionType.nursing_hospital: "护理院",
        InstitutionType.nursing_home_clinic: "养老机构内设的医疗机构",
        InstitutionType.internet_hospital: "互联网医院（依托实体医疗机构）",
    }
)


class Programme(StrEnum):
    """Services a designated facility is approved for; other services look facilities up by these."""

    tb_designated = "tb_designated"
    maternity = "maternity"
    special_disease = "special_disease"
    reformed_level2_outpatient = "reformed_level2_outpatient"
    cross_province_direct = "cross_province_direct"
    long_term_care = "long_term_care"


PROGRAMME_NAMES: Mapping[Programme, str] = MappingProxyType(
    {
        Programme.tb_designated: "结核病定点医疗机构",
        Programme.maternity: "生育保险定点医疗机构",
        Programme.special_disease: "门诊特定疾病（门特病）定点",
        Programme.reformed_level2_outpatient: "实行公立医院改革的二级医院（居民普通门诊）",
        Programme.cross_province_direct: "跨省异地就医直接结算",
        Programme.long_term_care: "长期护理保险",
    }
)

# Item codes of file 000 (主项编码 00203600900Y). The long-term-care guides carry none.
ITEM_CODES: Mapping[ApplicantKind, str | None] = MappingProxyType(
    {
        ApplicantKind.medical_institution: "002036009001",
        ApplicantKind.retail_pharmacy: "002036009002",
        ApplicantKind.ltc_nursing: None,
        ApplicantKind.disability_assessment: None,
    }
)

# 津医保规字〔2021〕1号 art. 18, quoted by both long-term-care guides: 签订三方服务协议.
THREE_PARTY_KINDS = frozenset({ApplicantKind.ltc_nursing, ApplicantKind.disability_assessment})


def agreement_party_count(kind: ApplicantKind) -> int:
    """Parties to the agreement: three for the long-term-care kinds, two (office and institution) otherwise."""
    return 3 if kind in THREE_PARTY_KINDS else 2


# "持……签订的服务协议5份" (nursing) / "10份" (assessment); none given for hospitals and pharmacies.
AGREEMENT_COPIES: Mapping[ApplicantKind, int | None] = MappingProxyType(
    {
        ApplicantKind.medical_institution: None,
        ApplicantKind.retail_pharmacy: None,
        ApplicantKind.ltc_nursing: 5,
        ApplicantKind.disability_assessment: 10,
    }
)

# "分中心自接收申请材料之日起，不超过20个工作日回复受理意见" — the same in all four guides.
REPLY_LIMIT_WORKING_DAYS = 20

# File 002 (items 31 and 32): 不超过3个月. The long-term-care values are (not in the documents):
# a labelled sample that operators may change.
ITEM_LIMIT_MONTHS: Mapping[ApplicantKind, int] = MappingProxyType(
    {
        ApplicantKind.medical_institution: 3,
        ApplicantKind.retail_pharmacy: 3,
        ApplicantKind.ltc_nursing: 3,  # sample, not in the documents
        ApplicantKind.disability_assessment: 3,  # sample, not in the documents
    }
)


# Registry codes: a kind's letter, the 6-digit district code, a 5-digit serial (H12010100001).
CODE_PREFIX: dict[str, str] = {
    ApplicantKind.medical_institution: "H",
    ApplicantKind.retail_pharmacy: "P",
    ApplicantKind.ltc_nursing: "L",
    ApplicantKind.disability_assessment: "A",
}
