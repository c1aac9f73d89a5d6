"""Who may be designated: the applicant's self-assessment, every unmet condition, the materials to bring.

Sources (file 000): 医疗机构申请定点协议管理 【受理条件】二 1–9 and 【办理材料】 1–8; 零售药店申请定点协议
管理 【受理条件】（一）–（九） and 【办理材料】 1–8; 长护险定点护理机构申请服务协议管理 (津医保规字
〔2021〕4号 art. 8 (1)–(5)); 长护险失能评定机构申请服务协议管理 (津医保规字〔2021〕2号 art. 6 (1)–(6)).

Interpretations:

- Thresholds: "至少3个月", "满3个月", "至少1名", "至少有2名" are inclusive (3 months is enough), and so are
  "1年以上" and "100张床位以上" — in Chinese legal usage 以上 includes the number itself (Civil Code
  art. 1259). So a 12-month contract meets "1年以上" and a 100-bed hospital needs a department.
- Months are whole calendar months (``shared.months.whole_months_between``): the applicant has 3 months on
  the day of the third month with its opening day-number (or that month's last day when it has none).
  Opened 2026-01-15: 2 months on 2026-04-14, 3 months on 2026-04-15.
- Pharmacies count from ``address_since`` ("在注册地址正式经营"); when it is None the pharmacy has been at
  its registered address since it opened.
- "签订1年以上劳动合同且在合同期内": ``contract_months`` is the agreed length of the contract and
  ``in_contract`` says the contract is running on the day of the check. Only pharmacies have this rule
  (pharmacists and insurance staff); a hospital needs just "专（兼）职医保管理人员", i.e. at least one.
- Hospitals with 100 beds or more need an internal insurance department *and* "专职工作人员": at least one
  insurance staffer marked ``full_time``.
- "按规定应当具备的其他条件" (the catch-all last condition of every list) cannot be checked from facts;
  the office's review covers it.
- The licence conditions of 【服务对象】 (依法登记注册，取得医疗机构执业许可证/中医诊所备案证/药品经营许可证)
  are not self-assessed: the licence is among the materials (or fetched by the office) and is checked
  there.
- Village clinics must also meet "本市村卫生室标准化建设条件" and the township's "五统一" management: two
  conditions, two facts.
- Internet hospitals sign a supplementary agreement through their physical institution (依托其实体医疗
  机构); the physical institution already met the conditions, so the only condition here is that the
  physical institution is named. Whether that code is a designated facility is the registry's question
  (the service checks it), not a pure rule.
- Long-term-care kinds: "配备符合长期护理保险服务管理要求……接入本市长期护理保险信息系统的软、硬件设备" is
  ``information_system_connected`` read for the long-term-care information system. The nursing guide
  opens with "未纳入本市基本医疗保障定点医疗机构范围的护理服务机构" may apply, so an institution that is
  already a designated medical institution (``already_designated_medical``) does not qualify through
  this item. "居家护理服务涉及医疗护理项目的，还应由具备巡诊、家医等护理服务资质的医疗机构提供" applies only
  when the institution offers home care with medical nursing items.
- ``insurance_penalty_last_year`` is, as the long-term-care guides write it, an administrative penalty
  for breaking the long-term-care insurance rules within the last year (近一年内). The hospital and
  pharmacy guides have no such condition, so it is not checked for them.
- Materials: "办理材料如在本市可联网调取公共信息范围内的，不需申请机构提供". The guides do not name those
  items. Read here as the public registrations the government keeps — the business/legal-person
  registration (营业执照、事业单位法人证书、民办非企业单位登记证书) and the sector licence (医疗机构执业
  许可证、中医诊所备案证、药品经营许可证) — so they are not asked for by default (``PUBLIC_DATA_MATERIALS``;
  a caller may pass another set). Identity-card copies, contracts, military documents and the
  institution's own texts are not public data and are asked for. "按相关规定需提供的其他材料" is not a
  concrete item and is not listed. The long-term-care items have a single material: the service
  agreement in 5 (nursing) or 10 (assessment) copies, brought by the long-term-care agency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.errors import Invalid
from shared.months import whole_months_between
from svc_facility.domain.kinds import ApplicantKind, InstitutionType

MIN_OPERATING_MONTHS = 3  # 正式运营至少3个月 / 在注册地址正式经营至少3个月 / 正式运营满3个月
MIN_FIRST_REGISTERED_PHYSICIANS = 1
BEDS_NEEDING_DEPARTMENT = 100  # 100张床位以上的医疗机构应设内部医保管理部门
MIN_CONTRACT_MONTHS = 12  # 签订1年以上劳动合同
MIN_PHARMACISTS = 1
MIN_PHARMACY_INSURANCE_STAFF = 2
MIN_HOSPITAL_INSURANCE_STAFF = 1  # 配备专（兼）职医保管理人员

# Internal rules (制度) as the guides name them.
SYSTEM_NAMES: dict[str, str] = {
    "insurance": "医保管理制度",
    "finance": "财务制度",
    "statistics": "统计信息管理制度",
    "quality": "医疗质量安全核心制度",
    "insurance_drugs": "医保药品管理制度",
    "insurance_personnel": "医保人员管理制度",
    "settlement": "医保费用结算制度",
}
HOSPITAL_SYSTEMS = ("insurance", "finance", "statistics", "quality")  # 医疗机构 条件4
PHARMACY_SYSTEMS = (
    "insurance_drugs",
    "finance",
    "insurance_personnel",
    "statistics",
    "settlement",
)  # 药店（五）

EQUIPMENT_NAMES: dict[str, str] = {
    "video": "视频监控",
    "biometric": "生物识别",
    "drug_tracing": "药品追溯系统",
}
REQUIRED_EQUIPMENT = ("video", "biometric", "drug_tracing")


@dataclass(frozen=True)
class Staffer:
    """A pharmacist or an insurance staffer as the application describes them."""

    registered_here: bool  # pharmacist: 注册地在该零售药店所在地 (not asked of insurance staff)
    contract_months: int  # length of the labour contract signed (签订……劳动合同)
    in_contract: bool = True  # 且在合同期内: the contract is running on the day checked
    full_time: bool = False  # hospital insurance staff: 专职 (vs 兼职)


@dataclass(frozen=True)
class ApplicantFacts:
    """The applicant's self-assessment (医疗机构进行自我评价); the office checks it against the materials.

    Fields that do not apply to a kind keep their defaults and are ignored for it.
    """

    kind: ApplicantKind
    institution_type: InstitutionType | None  # medical institutions only
    opened_on: date  # 正式运营 since
    address_since: date | None = None  # pharmacy: 在注册地址正式经营 since (None: since opening)
    first_registered_physicians: int = (
        0  # 取得医师/乡村医生/中医（专长）执业资格且第一注册地在该医疗机构的医师
    )
    pharmacists: tuple[Staffer, ...] = ()  # 执业药师 or 药学/临床药学/中药学专业技术资格
    insurance_staff: tuple[Staffer, ...] = ()  # 专（兼）职医保管理人员
    beds: int = 0
    has_insurance_department: bool = False  # 内部医保管理部门
    responsible_head: bool = False  # 主要负责人负责医保工作
    systems: frozenset[str] = frozenset()  # keys of SYSTEM_NAMES
    information_system_connected: bool = (
        False  # 与医保信息系统有效对接、直接联网结算 (LTC: 接入长护险信息系统)
    )
    uses_national_codes: bool = False  # 设立基础数据库，使用国家统一的医保编码
    purchasing_platform: bool = False  # 能够接入市医药采购中心医药采购应用平台
    equipment: frozenset[str] = frozenset()  # keys of EQUIPMENT_NAMES: 视频监控、生物识别、药品追溯系统
    village_standardised: bool = False  # 村卫生室: 符合本市村卫生室标准化建设条件
    village_five_unified: bool = False  # 村卫生室: 与卫生院实行"五统一"管理
    drug_zoning_and_labels: bool = False  # 药店: 药品分类分区管理，设立明确的医保用药标识
    insurance_penalty_last_year: bool = False  # LTC: 近一年内因违反长护险规定受到行政处罚
    medical_qualification_or_partner: bool = False  # 护理机构: 具备医疗机构资质或与医疗机构签订合作协议
    offers_home_medical_nursing: bool = False  # 护理机构: 居家护理服务涉及医疗护理项目
    home_nursing_by_qualified_provider: bool = False  # ……由具备巡诊、家医等护理服务资质的医疗机构提供
    already_designated_medical: bool = False  # 护理机构: 已纳入本市基本医疗保障定点医疗机构范围
    also_nursing_institution: bool = False  # 评定机构: 同时作为长期护理保险定点护理机构
    professional_assessment_team: bool = False  # 评定机构: 具备专业化评定队伍
    physical_hospital_code: str | None = None  # 互联网医院: 依托的实体医疗机构
    military: bool = False  # 军队医疗机构 (other materials)

    def __post_init__(self) -> None:
        _normalise(self)
        errors = _fact_errors(self)
        if errors:
            raise Invalid(
                "invalid_facts", "申请信息有误", "；".join(e["message"] for e in errors), errors=errors
            )


def _normalise(facts: ApplicantFacts) -> None:
    """Plain strings and lists (from a request or a database row) become the enum and immutable types."""
    try:
        kind = ApplicantKind(facts.kind)
        institution_type = None if facts.institution_type is None else InstitutionType(facts.institution_type)
    except ValueError as exc:
        raise Invalid("invalid_facts", "申请信息有误", f"未知的机构类型：{exc}") from exc
    # Frozen: object.__setattr__ is the documented way to finish construction in __post_init__.
    object.__setattr__(facts, "kind", kind)
    object.__setattr__(facts, "institution_type", institution_type)
    object.__setattr__(facts, "pharmacists", tuple(facts.pharmacists))
    object.__setattr__(facts, "insurance_staff", tuple(facts.insurance_staff))
    object.__setattr__(facts, "systems", frozenset(facts.systems))
    object.__setattr__(facts, "equipment", frozenset(facts.equipment))


def _fact_errors(facts: ApplicantFacts) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []

    def add(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    if facts.kind is ApplicantKind.medical_institution and facts.institution_type is None:
        add("institution_type", "医疗机构须填写机构类别")
    if facts.kind is not ApplicantKind.medical_institution and facts.institution_type is not None:
        add("institution_type", "只有医疗机构填写机构类别")
    for field in ("first_registered_physicians", "beds"):
        if getattr(facts, field) < 0:
            add(field, "不能为负数")
    for field in ("pharmacists", "insurance_staff"):
        if any(staffer.contract_months < 0 for staffer in getattr(facts, field)):
            add(field, "劳动合同期限不能为负数")
    unknown_systems = set(facts.systems) - SYSTEM_NAMES.keys()
    if unknown_systems:
        add("systems", f"未知的制度：{'、'.join(sorted(unknown_systems))}")
    unknown_equipment = set(facts.equipment) - EQUIPMENT_NAMES.keys()
    if unknown_equipment:
        add("equipment", f"未知的设施设备：{'、'.join(sorted(unknown_equipment))}")
    if facts.address_since is not None and facts.address_since < facts.opened_on:
        add("address_since", "在注册地址经营的日期不能早于开业日期")
    return errors


@dataclass(frozen=True)
class UnmetCondition:
    code: str
    message: str  # Chinese: the condition and what was found


# --------------------------------------------------------------------------- the conditions


def unmet_conditions(facts: ApplicantFacts, on: date) -> list[UnmetCondition]:
    """Every condition of the applicant's kind that the facts do not meet on ``on`` (all of them, never the first)."""
    if facts.kind is ApplicantKind.medical_institution:
        if facts.institution_type is InstitutionType.internet_hospital:
            return _internet_hospital_unmet(facts)
        return _medical_unmet(facts, on)
    if facts.kind is ApplicantKind.retail_pharmacy:
        return _pharmacy_unmet(facts, on)
    if facts.kind is ApplicantKind.ltc_nursing:
        return _nursing_unmet(facts, on)
    return _assessment_unmet(facts, on)


def _medical_unmet(facts: ApplicantFacts, on: date) -> list[UnmetCondition]:
    unmet = [
        *_operating_months(facts.opened_on, on, "正式运营"),
        *_first_registered_physicians(facts),
        *_responsible_head(facts),
        *_hospital_insurance_staff(facts),
        *_missing_systems(facts, HOSPITAL_SYSTEMS),
        *_information_system(facts),
        *_national_codes(facts),
        *_purchasing_platform(facts),
        *_missing_equipment(facts),
    ]
    if facts.institution_type is InstitutionType.village_clinic:
        unmet += _village_clinic(facts)
    return unmet


def _internet_hospital_unmet(facts: ApplicantFacts) -> list[UnmetCondition]:
    if facts.physical_hospital_code and facts.physical_hospital_code.strip():
        return []
    return [
        UnmetCondition(
            "physical_hospital", "互联网医院须依托其实体医疗机构申请签订补充协议（未填写实体医疗机构）"
        )
    ]


def _pharmacy_unmet(facts: ApplicantFacts, on: date) -> list[UnmetCondition]:
    return [
        *_operating_months(facts.address_since or facts.opened_on, on, "在注册地址正式经营"),
        *_pharmacists(facts),
        *_pharmacy_insurance_staff(facts),
        *_drug_zoning(facts),
        *_missing_systems(facts, PHARMACY_SYSTEMS),
        *_information_system(facts),
        *_national_codes(facts),
        *_purchasing_platform(facts),
        *_missing_equipment(facts),
    ]


def _nursing_unmet(facts: ApplicantFacts, on: date) -> list[UnmetCondition]:
    return [
        *_already_designated_medical(facts),
        *_no_recent_penalty(facts),
        *_operating_months(facts.opened_on, on, "正式运营"),
        *_medical_qualification(facts),
        *_home_nursing_provider(facts),
        *_ltc_system(facts),
    ]


def _assessment_unmet(facts: ApplicantFacts, on: date) -> list[UnmetCondition]:
    return [
        *_no_recent_penalty(facts),
        *_operating_months(facts.opened_on, on, "正式运营"),
        *_not_also_nursing(facts),
        *_assessment_team(facts),
        *_ltc_system(facts),
    ]


# Each check returns a list (empty when met) so the kinds above read as the guides' numbered lists.


def _operating_months(since: date, on: date, wording: str) -> list[UnmetCondition]:
    months = whole_months_between(since, on)
    if months >= MIN_OPERATING_MONTHS:
        return []
    return [
        UnmetCondition("operating_months", f"{wording}不足{MIN_OPERATING_MONTHS}个月（实际 {months} 个月）")
    ]


def _first_registered_physicians(facts: ApplicantFacts) -> list[UnmetCondition]:
    count = facts.first_registered_physicians
    if count >= MIN_FIRST_REGISTERED_PHYSICIANS:
        return []
    return [
        UnmetCondition(
            "physician",
            f"至少需{MIN_FIRST_REGISTERED_PHYSICIANS}名第一注册地在本机构的医师（实际 {count} 名）",
        )
    ]


def _responsible_head(facts: ApplicantFacts) -> list[UnmetCondition]:
    if facts.responsible_head:
        return []
    return [UnmetCondition("responsible_head", "主要负责人未负责医保工作")]


def _hospital_insurance_staff(facts: ApplicantFacts) -> list[UnmetCondition]:
    unmet = []
    staff = len(facts.insurance_staff)
    if staff < MIN_HOSPITAL_INSURANCE_STAFF:
        unmet.append(UnmetCondition("insurance_staff", f"未配备专（兼）职医保管理人员（实际 {staff} 名）"))
    if facts.beds >= BEDS_NEEDING_DEPARTMENT:
        if not facts.has_insurance_department:
            unmet.append(
                UnmetCondition(
                    "insurance_department",
                    f"{BEDS_NEEDING_DEPARTMENT}张床位以上的医疗机构应设内部医保管理部门（实际床位 {facts.beds} 张，未设）",
                )
            )
        full_time = sum(1 for staffer in facts.insurance_staff if staffer.full_time)
        if full_time == 0:
            unmet.append(
                UnmetCondition(
                    "full_time_insurance_staff",
                    f"{BEDS_NEEDING_DEPARTMENT}张床位以上的医疗机构应安排专职医保工作人员（实际专职 0 名）",
                )
            )
    return unmet


def _missing_systems(facts: ApplicantFacts, required: tuple[str, ...]) -> list[UnmetCondition]:
    missing = [SYSTEM_NAMES[key] for key in required if key not in facts.systems]
    if not missing:
        return []
    return [UnmetCondition("systems", f"缺少符合医保协议管理要求的制度：{'、'.join(missing)}")]


def _information_system(facts: ApplicantFacts) -> list[UnmetCondition]:
    if facts.information_system_connected:
        return []
    return [UnmetCondition("information_system", "信息系统未实现与医保信息系统有效对接、直接联网结算")]


def _national_codes(facts: ApplicantFacts) -> list[UnmetCondition]:
    if facts.uses_national_codes:
        return []
    return [UnmetCondition("national_codes", "未建立医保基础数据库、按规定使用国家统一的医保编码")]


def _purchasing_platform(facts: ApplicantFacts) -> list[UnmetCondition]:
    if facts.purchasing_platform:
        return []
    return [UnmetCondition("purchasing_platform", "不能接入市医药采购中心医药采购应用平台")]


def _missing_equipment(facts: ApplicantFacts) -> list[UnmetCondition]:
    missing = [EQUIPMENT_NAMES[key] for key in REQUIRED_EQUIPMENT if key not in facts.equipment]
    if not missing:
        return []
    return [UnmetCondition("equipment", f"缺少监管设施设备：{'、'.join(missing)}")]


def _village_clinic(facts: ApplicantFacts) -> list[UnmetCondition]:
    unmet = []
    if not facts.village_standardised:
        unmet.append(UnmetCondition("village_standardised", "村卫生室不符合本市村卫生室标准化建设条件"))
    if not facts.village_five_unified:
        unmet.append(
            UnmetCondition("village_five_unified", "村卫生室未与卫生院（社区卫生服务中心）实行“五统一”管理")
        )
    return unmet


def _qualified_staff(staff: tuple[Staffer, ...], need_registered_here: bool) -> int:
    return sum(
        1
        for staffer in staff
        if staffer.contract_months >= MIN_CONTRACT_MONTHS
        and staffer.in_contract
        and (staffer.registered_here or not need_registered_here)
    )


def _pharmacists(facts: ApplicantFacts) -> list[UnmetCondition]:
    qualified = _qualified_staff(facts.pharmacists, need_registered_here=True)
    if qualified >= MIN_PHARMACISTS:
        return []
    return [
        UnmetCondition(
            "pharmacist",
            f"至少需{MIN_PHARMACISTS}名注册地在本店、签订1年以上劳动合同且在合同期内的药师"
            f"（符合条件 {qualified} 名，共申报 {len(facts.pharmacists)} 名）",
        )
    ]


def _pharmacy_insurance_staff(facts: ApplicantFacts) -> list[UnmetCondition]:
    qualified = _qualified_staff(facts.insurance_staff, need_registered_here=False)
    if qualified >= MIN_PHARMACY_INSURANCE_STAFF:
        return []
    return [
        UnmetCondition(
            "insurance_staff",
            f"至少需{MIN_PHARMACY_INSURANCE_STAFF}名签订1年以上劳动合同且在合同期内的专（兼）职医保管理人员"
            f"（符合条件 {qualified} 名，共申报 {len(facts.insurance_staff)} 名）",
        )
    ]


def _drug_zoning(facts: ApplicantFacts) -> list[UnmetCondition]:
    if facts.drug_zoning_and_labels:
        return []
    return [UnmetCondition("drug_zoning", "未开展药品分类分区管理或未设立明确的医保用药标识")]


def _no_recent_penalty(facts: ApplicantFacts) -> list[UnmetCondition]:
    if not facts.insurance_penalty_last_year:
        return []
    return [UnmetCondition("insurance_penalty", "近一年内因违反长期护理保险有关规定受到行政处罚")]


def _already_designated_medical(facts: ApplicantFacts) -> list[UnmetCondition]:
    if not facts.already_designated_medical:
        return []
    return [
        UnmetCondition(
            "already_designated_medical",
            "已纳入本市基本医疗保障定点医疗机构范围（本事项限未纳入定点医疗机构范围的护理服务机构申请）",
        )
    ]


def _medical_qualification(facts: ApplicantFacts) -> list[UnmetCondition]:
    if facts.medical_qualification_or_partner:
        return []
    return [UnmetCondition("medical_qualification", "不具备医疗机构资质，且未与医疗机构签订合作协议")]


def _home_nursing_provider(facts: ApplicantFacts) -> list[UnmetCondition]:
    if not facts.offers_home_medical_nursing or facts.home_nursing_by_qualified_provider:
        return []
    return [
        UnmetCondition(
            "home_nursing_provider",
            "居家护理服务涉及医疗护理项目，但未由具备巡诊、家医等护理服务资质的医疗机构提供",
        )
    ]


def _ltc_system(facts: ApplicantFacts) -> list[UnmetCondition]:
    if facts.information_system_connected:
        return []
    return [
        UnmetCondition(
            "ltc_system",
            "未配备符合长期护理保险服务管理要求的软、硬件设备或未接入本市长期护理保险信息系统",
        )
    ]


def _not_also_nursing(facts: ApplicantFacts) -> list[UnmetCondition]:
    if not facts.also_nursing_institution:
        return []
    return [
        UnmetCondition(
            "also_nursing_institution", "失能评定机构不得同时作为长期护理保险定点护理机构（现为定点护理机构）"
        )
    ]


def _assessment_team(facts: ApplicantFacts) -> list[UnmetCondition]:
    if facts.professional_assessment_team:
        return []
    return [UnmetCondition("assessment_team", "不具备专业化评定队伍")]


# --------------------------------------------------------------------------- materials

APPLICATION_FORM_HOSPITAL = "定点医疗机构申请表"
HOSPITAL_LICENCE = "医疗机构执业许可证或中医诊所备案证复印件"
MILITARY_LICENCE = "军队医疗机构为民服务许可证照复印件"
HOSPITAL_REGISTRATION = "营业执照（或事业单位法人证书、民办非企业单位登记证书）复印件"
MILITARY_REGISTRATION = (
    "《中国人民解放军事业单位有偿服务许可证》或中国人民解放军出具的相关批准资料等主体资质复印件"
)
HEAD_ID_COPY = "法定代表人、主要负责人或实际控制人身份证复印件"
HOSPITAL_RULES = "与医保政策对应的内部管理制度和财务制度文本"
HOSPITAL_INFORMATION_SYSTEM = "与医保有关的医疗机构信息系统相关材料"
FUND_FORECAST = "纳入定点后使用医疗保障基金的预测性分析报告"

APPLICATION_FORM_PHARMACY = "定点零售药店申请表"
DRUG_LICENCE = "药品经营许可证复印件"
PHARMACY_REGISTRATION = "营业执照复印件"
PHARMACIST_PAPERS = "执业药师资格证书或药学技术人员相关证书及其劳动合同复印件"
INSURANCE_STAFF_CONTRACTS = "医保专（兼）职管理人员的劳动合同复印件"
PHARMACY_RULES = "与医疗保障政策对应的内部管理制度和财务制度文本"
PHARMACY_INFORMATION_SYSTEM = "与医保有关的信息系统相关材料"

NURSING_AGREEMENT = "《天津市长期护理保险定点护理机构经办服务协议书》（5份）"
ASSESSMENT_AGREEMENT = "《天津市长期护理保险失能评定经办服务协议书》（10份）"

# Government registrations the office looks up itself (interpretation, see the module notes).
PUBLIC_DATA_MATERIALS = frozenset(
    {HOSPITAL_LICENCE, HOSPITAL_REGISTRATION, DRUG_LICENCE, PHARMACY_REGISTRATION}
)


def required_materials(
    kind: ApplicantKind,
    institution_type: InstitutionType | None = None,
    *,
    military: bool = False,
    fetchable: frozenset[str] = PUBLIC_DATA_MATERIALS,
) -> list[str]:
    """The materials the applicant must bring, in the guide's order, less what the office fetches itself."""
    return [item for item in _all_materials(kind, military) if item not in fetchable]


def _all_materials(kind: ApplicantKind, military: bool) -> list[str]:
    if kind is ApplicantKind.medical_institution:
        # Internet hospitals apply through their physical institution; the guide lists no other materials.
        licence, registration = (
            (MILITARY_LICENCE, MILITARY_REGISTRATION)
            if military
            else (
                HOSPITAL_LICENCE,
                HOSPITAL_REGISTRATION,
            )
        )
        return [
            APPLICATION_FORM_HOSPITAL,
            licence,
            registration,
            HEAD_ID_COPY,
            HOSPITAL_RULES,
            HOSPITAL_INFORMATION_SYSTEM,
            FUND_FORECAST,
        ]
    if kind is ApplicantKind.retail_pharmacy:
        return [
            APPLICATION_FORM_PHARMACY,
            DRUG_LICENCE,
            PHARMACY_REGISTRATION,
            HEAD_ID_COPY,
            PHARMACIST_PAPERS,
            INSURANCE_STAFF_CONTRACTS,
            PHARMACY_RULES,
            PHARMACY_INFORMATION_SYSTEM,
            FUND_FORECAST,
        ]
    if kind is ApplicantKind.ltc_nursing:
        return [NURSING_AGREEMENT]
    return [ASSESSMENT_AGREEMENT]
