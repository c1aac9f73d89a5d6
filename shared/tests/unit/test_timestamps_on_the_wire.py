"""Every timestamp a service answers is UTC ISO 8601 ending in Z, whatever produced it (shared.http.responses)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from shared.http.responses import ApiJSONResponse, canonical_timestamps

BEIJING = timezone(timedelta(hours=8))
MOMENT = datetime(2026, 7, 1, 10, 30, tzinfo=BEIJING)


class StepOut(BaseModel):
    at: datetime
    steps: list[dict]


def make_app() -> FastAPI:
    """As shared.service builds a service: the response class on the app, the routes on routers."""
    app, router = FastAPI(default_response_class=ApiJSONResponse), APIRouter()

    @router.get("/modelled", response_model=StepOut)
    async def modelled() -> dict:
        # A history step kept in a JSON column was written with isoformat(): "+00:00".
        return {"at": MOMENT, "steps": [{"at": MOMENT.astimezone(UTC).isoformat(), "note": "2026-07-01"}]}

    @router.get("/plain")
    async def plain() -> dict:
        return {"at": MOMENT, "on": "2026-07-01", "month": "2026-07"}

    app.include_router(router, prefix="/api/v1/demo")
    return app


def test_a_modelled_answer_and_its_json_history_both_use_z() -> None:
    body = TestClient(make_app()).get("/api/v1/demo/modelled").json()
    assert body == {
        "at": "2026-07-01T02:30:00Z",
        "steps": [{"at": "2026-07-01T02:30:00Z", "note": "2026-07-01"}],
    }


def test_an_answer_without_a_model_uses_z_and_leaves_dates_and_months_alone() -> None:
    assert TestClient(make_app()).get("/api/v1/demo/plain").json() == {
        "at": "2026-07-01T02:30:00Z",
        "on": "2026-07-01",
        "month": "2026-07",
    }


def test_fractions_are_kept_and_text_that_only_looks_like_a_time_is_not_touched() -> None:
    assert canonical_timestamps(["2026-07-01T02:30:00.120000+00:00", "办理于 2026-07-01T02:30:00+08:00"]) == [
        "2026-07-01T02:30:00.120000Z",
        "办理于 2026-07-01T02:30:00+08:00",
    ]


_TIMES = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, BEIJING, timezone(timedelta(hours=-5))]),
)
_TIME_TEXTS = st.one_of(
    _TIMES.map(lambda moment: moment.isoformat()),
    _TIMES.map(lambda moment: moment.isoformat().replace("+00:00", "Z")),
    _TIMES.map(lambda moment: moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")),  # ".000000Z" too
    st.sampled_from(["2026-07-01T02:30:00.1Z", "2026-07-01", "2026-07", "办理于 2026-07-01T02:30:00+08:00"]),
)
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=30), _TIME_TEXTS),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), _TIME_TEXTS), children, max_size=4),
    ),
    max_leaves=12,
)


@given(_JSON)
def test_an_answer_is_written_as_the_rewriting_of_every_timestamp_would_write_it(content: object) -> None:
    # The answer is written once and rewritten only when a timestamp in it is not in the wire form yet.
    assert ApiJSONResponse(content).body == orjson.dumps(
        canonical_timestamps(content), option=orjson.OPT_NON_STR_KEYS
    )
