"""Events between services: envelope, payload registry, outbox, relay, consumer, topology."""

from shared.events.envelope import Envelope, new_envelope
from shared.events.registry import event_spec, payload_of, registered_events

__all__ = ["Envelope", "new_envelope", "event_spec", "payload_of", "registered_events"]
