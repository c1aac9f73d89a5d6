"""A service process that kills itself at a chosen point of the event pipeline (fault tests only).

Killing a process from outside at the right instant (while its relay publishes a batch, between a
consumer's commit and its ack) is a matter of luck; these points last a millisecond. A process
started with this app factory instead SIGKILLs itself there, which is the same crash (no cleanup, no
goodbye to the broker or the database), at a point the test chose:

    YB_FAULT_SERVICE=claims YB_FAULT=consumer_after_commit YB_FAULT_AFTER=20
        uvicorn --factory yb_deploy.faults:create_app

- `relay_mid_publish`: at the relay's YB_FAULT_AFTER-th batch of two events or more, the first half
  is published and confirmed by the broker, then the process dies before the rows are marked sent.
  The whole batch is published again later: the first half reaches its consumers twice.
- `consumer_after_commit`: after the YB_FAULT_AFTER-th committed effect, before its ack. The broker
  delivers the unacknowledged messages again; the inbox must skip those already applied.

Nothing here is imported by a deployment; `yb_deploy.platform.start_process(factory=FACTORY)` runs it.
"""

from __future__ import annotations

import importlib
import os
import signal
from collections.abc import Sequence
from typing import Any

FACTORY = "yb_deploy.faults:create_app"
RELAY_MID_PUBLISH = "relay_mid_publish"
CONSUMER_AFTER_COMMIT = "consumer_after_commit"


def fault_env(service: str, fault: str, after: int = 1) -> dict[str, str]:
    """The environment that makes a process of `service` die at `fault` (see the module's text)."""
    return {"YB_FAULT_SERVICE": service, "YB_FAULT": fault, "YB_FAULT_AFTER": str(after)}


def say(what: str) -> None:
    """One line on standard output (the process's log) just before it dies: what the test reads."""
    print(f"fault {what}", flush=True)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def create_app() -> Any:
    fault, after = os.environ["YB_FAULT"], int(os.environ.get("YB_FAULT_AFTER", "1"))
    {RELAY_MID_PUBLISH: _die_mid_publish, CONSUMER_AFTER_COMMIT: _die_after_commit}[fault](after)
    return importlib.import_module(f"svc_{os.environ['YB_FAULT_SERVICE']}.main").create_app()


def _die_mid_publish(after: int) -> None:
    from shared.events.broker import Broker, OutgoingMessage

    publish = Broker.publish_events
    batches = 0

    async def half_then_die(self: Broker, messages: Sequence[OutgoingMessage]) -> list[BaseException | None]:
        nonlocal batches
        if len(messages) >= 2:
            batches += 1
            if batches >= after:
                half = messages[: len(messages) // 2]
                confirmed = sum(error is None for error in await publish(self, half))
                say(
                    f"{RELAY_MID_PUBLISH}: {confirmed} of a batch of {len(messages)} confirmed, none marked sent"
                )
                die()
        return await publish(self, messages)

    Broker.publish_events = half_then_die  # type: ignore[method-assign]


def _die_after_commit(after: int) -> None:
    from shared.events.consumer import Consumer

    init = Consumer.__init__
    committed = 0

    async def count_then_die(_envelope: object) -> None:
        nonlocal committed
        committed += 1
        if committed >= after:
            say(f"{CONSUMER_AFTER_COMMIT}: {committed} effects committed, the last ones not acknowledged")
            die()

    def with_hook(self: Consumer, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.after_commit_hook = count_then_die

    Consumer.__init__ = with_hook  # type: ignore[method-assign]
