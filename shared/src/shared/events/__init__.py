"""Events between services: envelope, payload registry, outbox, relay, consumer, topology."""

from shared.events.envelope import Envelope, new_envelope
from shared.events.registry import event_spec, payload_of, registered_events

__all__ = ["Envelope", "event_spec", "new_envelope", "payload_of", "registered_events"]
