"""Which office a case may be filed at (issue 18: offices that exist, by staff of their region).

The office directory (`shared.directory`, from the seeds) says which offices exist: the city centre
and the district sub-centres of Tianjin, the Tangshan office, the Qinhuangdao centre and its
district offices. A case belongs to a city or district office of that directory; township and
village stations forward, they do not hold cases. Staff act for offices of their own region only:
a district clerk for their own office, city-level staff for any office of their city.
"""

from __future__ import annotations

from shared.auth import Principal, Role
from shared.directory import Office, office_by_code
from shared.errors import Problem

HOLDS_CASES = frozenset({"city", "district"})


def case_office(code: str, actor: Principal, field: str = "office_code") -> Office:
    """The office a new case is filed at: it exists, holds cases, and the clerk serves it."""
    if actor.role is Role.staff and not actor.is_city_staff and actor.office_code != code:
        raise _other_office(code)  # a district clerk's answer is the same for any office not theirs, known or not
    office = office_by_code(code)
    if office is None or office.level not in HOLDS_CASES:
        raise Problem(422, "unknown_office", "经办机构不存在", f"经办机构代码 {code} 不在本市医保经办机构目录中",
                      errors=[{"field": field, "message": "请选择参保地医保分中心"}])  # fmt: skip
    if actor.role is Role.staff and not serves(actor, office):
        raise _other_office(code)
    return office


def _other_office(code: str, field: str = "office_code") -> Problem:
    return Problem(403, "other_office", "只能受理本经办机构的业务", f"经办机构 {code} 不由您所在的经办机构管辖",
                   errors=[{"field": field, "message": "不是本经办机构"}])  # fmt: skip


def serves(actor: Principal, office: Office) -> bool:
    """A district clerk serves their office; city-level staff every office of their own city."""
    if actor.role is not Role.staff or actor.office_code is None:
        return False
    if actor.office_code == office.code:
        return True
    own = office_by_code(actor.office_code)
    return actor.is_city_staff and own is not None and own.region == office.region


def serves_code(actor: Principal, code: str) -> bool:
    """For objects already filed: the same rule by office code (an office since removed is nobody's but its own clerks')."""
    office = office_by_code(code)
    if office is None:
        return actor.role is Role.staff and actor.office_code == code
    return serves(actor, office)


def in_clerks_city(actor: Principal, code: str) -> bool:
    """Items the catalogue marks 全市通办 are handled by staff of any office of the person's city, not of another."""
    own, office = office_by_code(actor.office_code or ""), office_by_code(code)
    return actor.role is Role.staff and own is not None and office is not None and own.region == office.region
