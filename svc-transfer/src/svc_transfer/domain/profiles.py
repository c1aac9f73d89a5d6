"""Time limits of a transfer (SLA profiles): which procedure applies between this office and a peer.

- ``seeds_5_10_5`` (default): file 000, 转移接续手续办理, 【办理时间】 "转入地经办机构应在受理后5个工作日内
  生成并发出《联系函》；转出地经办机构收到《联系函》后10个工作日内生成、发出《信息表》并划转资金；
  转入地经办机构收到《信息表》和转移资金后应在5个工作日内办结".
- ``national_2016``: 人社厅发〔2016〕94号 (the procedure file 000 cites): 15 working days at each step.
- ``national_2021_online``: the 2021 national online procedure: no contact letter (the request travels
  electronically when the application is accepted, at either end), outgoing 10, incoming 5.
- ``in_province``: file 003 "河北省内不用发函，直接在办理增人业务时办理接续业务": no exchange at all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SlaProfile:
    code: str
    name: str
    letter_days: int | None  # acceptance → letter sent (None: no letter, the request leaves on acceptance)
    table_days: int | None  # letter received → information table and funds sent (outgoing side)
    complete_days: int | None  # table and funds received → completed (incoming side)

    @property
    def exchanges_messages(self) -> bool:
        return self.table_days is not None

    @property
    def has_letter(self) -> bool:
        return self.letter_days is not None


PROFILES = {
    p.code: p
    for p in (
        SlaProfile("seeds_5_10_5", "经办指南：受理后5个、收函后10个、收表收款后5个工作日", 5, 10, 5),
        SlaProfile("national_2016", "人社厅发〔2016〕94号：各环节15个工作日", 15, 15, 15),
        SlaProfile(
            "national_2021_online", "2021年全国线上办理：不发联系函，转出10个、转入5个工作日", None, 10, 5
        ),
        SlaProfile("in_province", "省内转移：不发函，新单位增员时直接接续", None, None, None),
    )
}
DEFAULT_PROFILE = "seeds_5_10_5"
# The army's certificate replaces the peer: the office completes within the incoming limit.
ARMY_COMPLETE_DAYS = 5


def _whole_transfer_days() -> int:
    """The whole item's limit from the service catalogue (file 002, 基本医疗保险关系转移接续 /
    转移接续手续办理: 20个工作日), counted from acceptance at the incoming office."""
    from shared.directory import catalogue_item

    item = catalogue_item("tj-2021-26")
    return item.time_limit.value if item and item.time_limit and item.time_limit.value else 20


WHOLE_TRANSFER_DAYS = _whole_transfer_days()
