"""The envelope every event travels in."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared import context
from shared.clock import Clock
from shared.events.registry import event_spec


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID
    event_type: str
    event_version: int
    occurred_at: AwareDatetime
    producer: str
    correlation_id: str
    causation_id: str | None = None
    payload: dict[str, Any]


def new_envelope(
    payload: BaseModel,
    clock: Clock,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Envelope:
    """Wrap a registered payload; correlation and causation default to the current context."""
    spec = event_spec(type(payload))
    event_id = uuid.uuid4()
    return Envelope(
        event_id=event_id,
        event_type=spec.event_type,
        event_version=spec.version,
        occurred_at=clock.now(),
        producer=spec.producer,
        correlation_id=correlation_id or context.correlation_id.get() or str(event_id),
        causation_id=causation_id or context.event_id.get() or context.request_id.get(),
        payload=payload.model_dump(mode="json"),
    )
