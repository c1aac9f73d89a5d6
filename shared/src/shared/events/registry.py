"""The registry of versioned event payload models.

A payload model is declared once (in shared.events.catalog) with its type, version and producer;
within a version changes are additive only, a breaking change is a new version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from shared.events.envelope import Envelope

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class EventSpec:
    event_type: str
    version: int
    model: type[BaseModel]
    producer: str
    summary: str


_BY_KEY: dict[tuple[str, int], EventSpec] = {}
_BY_MODEL: dict[type[BaseModel], EventSpec] = {}


def event(event_type: str, version: int, producer: str, summary: str) -> Callable[[type[M]], type[M]]:
    """Class decorator registering a payload model."""

    def register(model: type[M]) -> type[M]:
        spec = EventSpec(event_type, version, model, producer, summary)
        existing = _BY_KEY.get((event_type, version))
        if existing is not None and existing.model.__qualname__ != model.__qualname__:
            raise ValueError(f"event {event_type} v{version} registered twice")
        _BY_KEY[(event_type, version)] = spec
        _BY_MODEL[model] = spec
        return model

    return register


def event_spec(model: type[BaseModel]) -> EventSpec:
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise LookupError(f"{model.__name__} is not a registered event payload") from None


def spec_for(event_type: str, version: int) -> EventSpec:
    try:
        return _BY_KEY[(event_type, version)]
    except KeyError:
        raise LookupError(f"unknown event {event_type} v{version}") from None


def payload_of(envelope: Envelope, model: type[M]) -> M:
    """The envelope's payload as `model`, checking the type and version match."""
    spec = event_spec(model)
    if (envelope.event_type, envelope.event_version) != (spec.event_type, spec.version):
        raise ValueError(
            f"envelope is {envelope.event_type} v{envelope.event_version}, not {spec.event_type} v{spec.version}"
        )
    return model.model_validate(envelope.payload)


def registered_events() -> list[EventSpec]:
    return sorted(_BY_KEY.values(), key=lambda s: (s.event_type, s.version))
