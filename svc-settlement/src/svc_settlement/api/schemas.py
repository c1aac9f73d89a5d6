"""Request and response schemas shared by the settlement routers."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.money import NonNegativeMoney

Staff = Annotated[Principal, require_roles(Role.staff)]
FacilityUser = Annotated[Principal, require_roles(Role.facility)]
Reader = Annotated[Principal, require_roles(Role.staff, Role.facility)]

InsuranceType = Literal["employee", "resident"]
CareType = Literal["inpatient", "outpatient", "special_disease"]
Origin = Literal["local", "in_province", "cross_province"]
PeriodText = Annotated[
    str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="结算月份 YYYY-MM", examples=["2026-03"])
]
FacilityCode = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9]+$")]


class Funds(BaseModel):
    pooled_fund: NonNegativeMoney = Field(default=Decimal("0.00"), description="统筹基金")
    large_amount_relief: NonNegativeMoney = Field(default=Decimal("0.00"), description="大额救助")
    major_illness_subsidy: NonNegativeMoney = Field(default=Decimal("0.00"), description="城职大病补助")
    civil_servant_subsidy: NonNegativeMoney = Field(default=Decimal("0.00"), description="公务员补助")
    disabled_soldier_subsidy: NonNegativeMoney = Field(default=Decimal("0.00"), description="军残补助")
    medical_assistance: NonNegativeMoney = Field(default=Decimal("0.00"), description="医疗救助")
    civil_affairs_relief: NonNegativeMoney = Field(default=Decimal("0.00"), description="民政优抚")
    personal_account: NonNegativeMoney = Field(default=Decimal("0.00"), description="个人账户")
