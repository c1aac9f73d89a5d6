"""Benefit policies: the versions shipped with the release (one JSON file per region, scheme and year in
``data/policies/``; the maternity tables and the allowance's leave days in ``data/maternity/``) and those
admins publish (``svc_claims.usecases.policies``; their rows, table ``policy_versions``, are read and
written here).

The schema is ``svc_claims.domain.benefits.policy`` (pure); this module reads the files (validated
on load: a broken or incomplete table is refused) and finds the version in force for a claim:
``policy_in_force(uow, region, scheme, day)``. The deployment's pooling region is a setting
(``YB_CLAIMS_REGION``), used wherever a request does not name one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Select, and_, bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Prepared, UnitOfWork
from svc_claims.domain.benefits.policy import LEVELS, TIERS, AssistanceGroup, Policy, VeteranGroup
from svc_claims.domain.maternity import AllowancePolicy, MaternityTable
from svc_claims.domain.publication import Publication
from svc_claims.models import policy_versions

POLICY_DIR = Path(__file__).parents[1] / "data" / "policies"
T = TypeVar("T")
Tier = str


class PolicyNotFound(LookupError):
    pass


def parse_policy(text: str) -> Policy:
    return Policy.model_validate_json(text)


@cache
def all_policies() -> dict[tuple[str, str, int], Policy]:
    return _tables(POLICY_DIR.glob("*.json"), parse_policy, lambda p: (p.region, p.scheme, p.year), "政策")


def bundled_policy(region: str, scheme: str, year: int) -> Policy | None:
    return all_policies().get((region, scheme, year))


_region: str | None = None


def use_region(region: str) -> None:
    """The deployment's pooling region (set once when the app starts, from ``ClaimsSettings.region``)."""
    global _region
    _region = region


def deployment_region() -> str:
    if _region is None:
        from svc_claims.settings import ClaimsSettings

        use_region(ClaimsSettings().region)
    return _region  # type: ignore[return-value]


_published: dict[uuid.UUID, Any] = {}  # published versions never change: parsed once per process
# Per region, scheme and year: when the published versions' starts were read, and (start, id) of each.
_starts: dict[tuple[str, str, int], tuple[float, list[tuple[date, uuid.UUID]]]] = {}
QUOTE_MAX_AGE_S = 5.0  # how stale a quote's view of the published versions may be (settlements: never)


async def policy_in_force(uow: UnitOfWork, region: str | None, scheme: str, day: date) -> Policy:
    """The version in force on ``day`` for the region (default: the deployment's) and scheme: of the versions
    of the day's year that started on or before it (the release's file and the published ones), the latest.
    Reads the published versions' starts afresh (what a settlement or a reimbursement pays by)."""
    region = region or deployment_region()
    starts = await published_starts(uow, region, scheme, day.year)
    _starts[(region, scheme, day.year)] = (time.monotonic(), starts)
    found = _choose(region, scheme, day, starts)
    if isinstance(found, uuid.UUID):
        if found not in _published:
            _published[found] = Policy.model_validate(await document_of(uow.session, found))
        return _published[found]
    if found is not None:
        return found
    years = {y for r, s, y in all_policies() if (r, s) == (region, scheme)} | await published_years(
        uow.session, region, scheme
    )
    on_file = (
        f"（已有年度：{'、'.join(map(str, sorted(years)))}）"
        if years
        else "（该统筹区、险种无政策文件，也无已发布的版本）"
    )
    raise PolicyNotFound(f"无 {region} {scheme} {day.isoformat()} 适用的待遇政策{on_file}")


def recent_policy_in_force(
    region: str | None, scheme: str, day: date, max_age_s: float = QUOTE_MAX_AGE_S
) -> Policy | None:
    """The version in force as this process saw the published versions at most ``max_age_s`` ago, without a
    database round trip (quotes, the hot path); None when it has not looked lately (then ask policy_in_force)."""
    region = region or deployment_region()
    seen = _starts.get((region, scheme, day.year))
    if seen is None or time.monotonic() - seen[0] > max_age_s:
        return None
    found = _choose(region, scheme, day, seen[1])
    if isinstance(found, uuid.UUID):
        return _published.get(found)
    return found


def forget_published_starts() -> None:
    """After a publication in this process: its own quotes see the new version at once."""
    _starts.clear()


def _choose(
    region: str, scheme: str, day: date, starts: list[tuple[date, uuid.UUID]]
) -> Policy | uuid.UUID | None:
    """The release's file or the id of the published version in force on ``day`` (the later start wins)."""
    return _latest(day, bundled_policy(region, scheme, day.year), starts)


def _latest(day: date, bundled: T | None, starts: list[tuple[date, uuid.UUID]]) -> T | uuid.UUID | None:
    """Of the release's version (if any) and the published ones, the one started last on or before ``day``."""
    candidate = bundled if bundled is not None and bundled.starts <= day else None  # type: ignore[attr-defined]
    published = [(start, version_id) for start, version_id in starts if start <= day]
    if published and (candidate is None or published[-1][0] > candidate.starts):  # type: ignore[attr-defined]
        return published[-1][1]
    return candidate


def _tables(
    paths: Iterable[Path], parse: Callable[[str], T], key: Callable[[T], tuple[str, str, int]], what: str
) -> dict[tuple[str, str, int], T]:
    """The files, validated on load, by (region, scheme, year); two files for one key are refused."""
    found: dict[tuple[str, str, int], T] = {}
    for path in sorted(paths):
        table = parse(path.read_text(encoding="utf-8"))
        if key(table) in found:
            raise ValueError(f"重复的{what}文件: {key(table)} ({path.name})")
        found[key(table)] = table
    return found


def load_policy(region: str, scheme: str, year: int) -> Policy:
    """The policy for (region, scheme, year); PolicyNotFound when none is on file."""
    try:
        return all_policies()[(region, scheme, year)]
    except KeyError:
        raise PolicyNotFound(
            f"无 {region} {scheme} {year} 年度待遇政策{_years_on_file(all_policies(), region, scheme)}"
        ) from None


MATERNITY_DIR = Path(__file__).parents[1] / "data" / "maternity"
MATERNITY, ALLOWANCE = "maternity", "maternity_allowance"  # policy_versions.kind


@cache
def maternity_tables() -> dict[tuple[str, str, int], MaternityTable]:
    return _tables(MATERNITY_DIR.glob("*-maternity-*.json"), MaternityTable.model_validate_json, lambda t: (t.region, t.scheme, t.year),
                   "生育保险政策")  # fmt: skip


def maternity_table(region: str, scheme: str, year: int) -> MaternityTable:
    """The maternity items of (region, scheme, year); PolicyNotFound when none is on file."""
    try:
        return maternity_tables()[(region, scheme, year)]
    except KeyError:
        raise PolicyNotFound(f"无 {region} {year} 年度{'居民' if scheme == 'resident' else '职工'}生育保险政策"
                             f"{_years_on_file(maternity_tables(), region, scheme)}") from None  # fmt: skip


def _years_on_file(tables: Mapping[tuple[str, str, int], object], region: str, scheme: str) -> str:
    """What the caller can do instead: the years on file for the region and scheme."""
    years = sorted(y for r, s, y in tables if (r, s) == (region, scheme))
    return f"（已有年度：{'、'.join(map(str, years))}）" if years else "（该统筹区、险种无政策文件）"


@cache
def allowance_policies() -> dict[tuple[str, date], AllowancePolicy]:
    """The release's allowance versions, by region and start."""
    policies = [AllowancePolicy.model_validate_json(path.read_text(encoding="utf-8"))
                for path in sorted(MATERNITY_DIR.glob("*-allowance-*.json"))]  # fmt: skip
    found: dict[tuple[str, date], AllowancePolicy] = {}
    for policy in policies:
        if (policy.region, policy.starts) in found:
            raise ValueError(f"重复的生育津贴政策文件: {policy.region} {policy.starts}")
        found[(policy.region, policy.starts)] = policy
    return found


def allowance_policy(region: str, day: date | None = None) -> AllowancePolicy:
    """The release's allowance version of the region in force on ``day`` (default: its latest)."""
    started = sorted(
        (p for (r, _), p in allowance_policies().items() if r == region and (day is None or p.starts <= day)),
        key=lambda p: p.starts,
    )
    if not started:
        raise PolicyNotFound(f"无 {region} {'' if day is None else day.isoformat() + ' 适用的'}生育津贴政策")
    return started[-1]


def bundled_version(kind: str, region: str, scheme: str, year: int) -> Any:
    """The release's version of (kind, region, scheme, year), if it ships one (it takes part in the numbering)."""
    if kind == MATERNITY:
        return maternity_tables().get((region, scheme, year))
    if kind == ALLOWANCE:
        return next(
            (p for (r, start), p in allowance_policies().items() if r == region and start.year == year), None
        )
    return bundled_policy(region, scheme, year)


async def maternity_in_force(uow: UnitOfWork, region: str | None, scheme: str, day: date) -> MaternityTable:
    """The maternity table in force on ``day`` for the region (default: the deployment's) and scheme: of the
    release's table of the day's year and the published versions, the one started last. Read afresh."""
    region = region or deployment_region()
    starts = await published_starts(uow, region, scheme, day.year, kind=MATERNITY)
    found = _latest(day, maternity_tables().get((region, scheme, day.year)), starts)
    if isinstance(found, uuid.UUID):
        return await _published_version(uow.session, found, MaternityTable)
    if found is not None:
        return found
    years = {y for r, s, y in maternity_tables() if (r, s) == (region, scheme)} | await published_years(
        uow.session, region, scheme, kind=MATERNITY
    )
    on_file = (
        f"（已有年度：{'、'.join(map(str, sorted(years)))}）" if years else "（该统筹区、险种无政策文件）"
    )
    raise PolicyNotFound(
        f"无 {region} {day.isoformat()} 适用的{'居民' if scheme == 'resident' else '职工'}生育保险政策{on_file}"
    )


async def allowance_in_force(uow: UnitOfWork, region: str | None, day: date) -> AllowancePolicy:
    """The allowance version in force on ``day``: the one started last on or before it, whatever the year."""
    region = region or deployment_region()
    starts = await published_starts(uow, region, "employee", None, kind=ALLOWANCE)
    try:
        bundled: AllowancePolicy | None = allowance_policy(region, day)
    except PolicyNotFound:
        bundled = None
    found = _latest(day, bundled, starts)
    if isinstance(found, uuid.UUID):
        return await _published_version(uow.session, found, AllowancePolicy)
    if found is None:
        raise PolicyNotFound(f"无 {region} {day.isoformat()} 适用的生育津贴政策")
    return found


async def _published_version(session: AsyncSession, version_id: uuid.UUID, model: type[T]) -> T:
    if version_id not in _published:
        _published[version_id] = model.model_validate(await document_of(session, version_id))  # type: ignore[attr-defined]
    return _published[version_id]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the versions admins draft and publish

BENEFIT = "benefit"  # policy_versions.kind of the benefit policy


@dataclass(frozen=True)
class PolicyVersion(Publication):
    id: uuid.UUID
    kind: str
    region: str
    scheme: str
    year: int
    effective_from: date
    version: int | None
    title: str
    sample: bool
    document: dict[str, Any]


def _version(row: Any) -> PolicyVersion:
    return PolicyVersion(
        id=row.id, kind=row.kind, region=row.region, scheme=row.scheme, year=row.year, effective_from=row.effective_from,
        version=row.version, status=row.status, title=row.title, sample=bool(row.document.get("sample", False)),
        drafted_by=row.drafted_by, drafted_at=row.drafted_at, reviewed_by=row.reviewed_by, review_note=row.review_note,
        published_by=row.published_by, published_at=row.published_at, document=row.document,
    )  # fmt: skip


async def insert_draft(session: AsyncSession, **values: Any) -> None:
    await session.execute(policy_versions.insert().values(status="draft", **values))


async def find_version(
    session: AsyncSession, version_id: uuid.UUID, *, for_update: bool = False
) -> PolicyVersion | None:
    query = select(policy_versions).where(policy_versions.c.id == version_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    return None if row is None else _version(row)


async def list_versions(
    session: AsyncSession, *, region: str | None, scheme: str | None, status: str | None, kind: str | None
) -> list[PolicyVersion]:
    query = select(policy_versions).order_by(policy_versions.c.region, policy_versions.c.scheme, policy_versions.c.effective_from,
                                             policy_versions.c.drafted_at)  # fmt: skip
    for column, value in (("region", region), ("scheme", scheme), ("status", status), ("kind", kind)):
        if value is not None:
            query = query.where(policy_versions.c[column] == value)
    return [_version(row) for row in await session.execute(query)]


async def lock_numbering(session: AsyncSession, found: PolicyVersion) -> None:
    """One publication at a time per kind, region, scheme and year, so two never take the same number."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
        {"key": f"policy_versions/{found.kind}/{found.region}/{found.scheme}/{found.year}"},
    )


async def next_number(session: AsyncSession, found: PolicyVersion, bundled_number: int) -> int:
    same_year = and_(policy_versions.c.kind == found.kind, policy_versions.c.region == found.region,
                     policy_versions.c.scheme == found.scheme, policy_versions.c.year == found.year)  # fmt: skip
    highest = (await session.execute(select(func.max(policy_versions.c.version)).where(same_year))).scalar()
    return max(highest or 0, bundled_number) + 1


async def mark_published(session: AsyncSession, version_id: uuid.UUID, **values: Any) -> bool:
    """The draft published with `values`; False when another published version starts that day."""
    try:
        await session.execute(
            update(policy_versions)
            .where(policy_versions.c.id == version_id)
            .values(status="published", **values)
        )
        await session.flush()
    except IntegrityError:
        return False
    return True


def _published_starts_query(of_one_year: bool) -> Select:
    query = (
        select(policy_versions.c.effective_from, policy_versions.c.id)
        .where(
            policy_versions.c.kind == bindparam("kind"),
            policy_versions.c.region == bindparam("region"),
            policy_versions.c.scheme == bindparam("scheme"),
            policy_versions.c.status == "published",
        )
        .order_by(policy_versions.c.effective_from)
    )
    return query.where(policy_versions.c.year == bindparam("year")) if of_one_year else query


# Read on every bill and every filing: built once, sent straight to asyncpg with each one's values.
_STARTS_OF_ONE_YEAR = Prepared(_published_starts_query(of_one_year=True))
_STARTS_OF_EVERY_YEAR = Prepared(_published_starts_query(of_one_year=False))


async def published_starts(
    uow: UnitOfWork, region: str, scheme: str, year: int | None, kind: str = BENEFIT
) -> list[tuple[date, uuid.UUID]]:
    """(effective_from, id) of the year's published versions (of every year: None), earliest first."""
    values: dict[str, Any] = {"kind": kind, "region": region, "scheme": scheme}
    if year is None:
        rows = await uow.execute(_STARTS_OF_EVERY_YEAR, values)
    else:
        rows = await uow.execute(_STARTS_OF_ONE_YEAR, values | {"year": year})
    return [(start, version_id) for start, version_id in rows]


async def document_of(session: AsyncSession, version_id: uuid.UUID) -> dict[str, Any]:
    query = select(policy_versions.c.document).where(policy_versions.c.id == version_id)
    return dict((await session.execute(query)).scalar_one())


async def published_years(session: AsyncSession, region: str, scheme: str, kind: str = BENEFIT) -> set[int]:
    query = select(policy_versions.c.year).distinct().where(
        policy_versions.c.kind == kind, policy_versions.c.region == region, policy_versions.c.scheme == scheme,
        policy_versions.c.status == "published",
    )  # fmt: skip
    return {year for (year,) in await session.execute(query)}


__all__ = [
    "LEVELS",
    "POLICY_DIR",
    "TIERS",
    "AssistanceGroup",
    "Policy",
    "PolicyNotFound",
    "Tier",
    "VeteranGroup",
    "all_policies",
    "allowance_in_force",
    "allowance_policy",
    "bundled_policy",
    "deployment_region",
    "load_policy",
    "maternity_in_force",
    "maternity_table",
    "parse_policy",
    "policy_in_force",
    "use_region",
]  # fmt: skip
