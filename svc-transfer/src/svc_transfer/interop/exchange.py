"""Sending and receiving inter-office messages.

Sending: a use case queues the message in ``interop_outbox`` inside its own transaction; the delivery
job claims due rows (``SKIP LOCKED``, with a lease so another replica leaves them alone), commits,
POSTs them with no transaction open, then records the answer. Each peer is served by its own task
(a peer that hangs delays only itself, by one timeout per round). A peer that is down is retried
with doubling back-off up to a limit of attempts, then the message is given up ("dead"); a peer that
refuses (4xx other than 408/425/429) is not retried. Either way the case is flagged for staff, who
re-send it once the cause is fixed.
Receiving: the signature, receiver and age are checked, then (sender, message id) goes into
``interop_inbox`` in the same transaction as the effect, so a message delivered twice acts once and
gets the same acknowledgement. Every step, refusals included, is written to ``interop_audit``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared import metrics
from shared.db import UnitOfWork
from shared.errors import Problem
from shared.ops import PeerStatus
from shared.service import ServiceRuntime
from svc_transfer.interop.limits import PeerRateLimit
from svc_transfer.interop.peers import PeerDirectory
from svc_transfer.interop.protocol import (
    MEDIA_TYPE,
    Message,
    MessageType,
    Signer,
    check_body,
    read_unverified,
    verify,
)
from svc_transfer.models import interop_audit, interop_inbox, interop_outbox
from svc_transfer.settings import TransferSettings

# The two ways a message is given up, as the metric yb_peer_messages_given_up_total names them.
GIVEN_UP = {"refused": "refused", "dead": "retries_exhausted"}
LEASE_S = 60  # a claimed message is left alone this long; a replica that died mid-send gives it up
BATCH = 50
AUDIT_TEXT_WIDTH = 200  # what the inter-office audit keeps of a claimed sender, message id or type

Handler = Callable[[UnitOfWork, Message], Awaitable[dict[str, Any]]]
# Told, in the recording transaction, of a message refused for good or given up on (flags its case).
Undelivered = Callable[[UnitOfWork, Any, str], Awaitable[None]]

log = logging.getLogger(__name__)


@dataclass
class Interop:
    settings: TransferSettings
    signer: Signer
    peers: PeerDirectory
    on_undelivered: Undelivered | None = None
    limit: PeerRateLimit | None = None
    _asked_wait: dict[uuid.UUID, float] = field(default_factory=dict)  # Retry-After of the last answer

    @classmethod
    def from_settings(cls, settings: TransferSettings) -> Interop:
        return cls(
            settings,
            Signer.load_or_create(
                settings.office_code,
                settings.signing_key_file,
                settings.signing_next_key_file,
                settings.signing_key_switch_at.timestamp() if settings.signing_key_switch_at else None,
            ),
            PeerDirectory(settings.peers_file),
            limit=PeerRateLimit(settings.interop_peer_rate_per_s, settings.interop_peer_burst),
        )

    # ------------------------------------------------------------------ sending

    async def queue(
        self, uow: UnitOfWork, peer: str, type_: MessageType, transfer_ref: uuid.UUID, body: dict[str, Any]
    ) -> uuid.UUID:
        message_id = uuid.uuid4()
        values = {
            "id": message_id,
            "peer": peer,
            "type": type_.value,
            "transfer_ref": transfer_ref,
            "body": body,
            # clock_timestamp(), not now(): two messages of one transaction keep their order.
            "created_at": func.clock_timestamp(),
        }
        await uow.session.execute(insert(interop_outbox).values(values))
        await audit(uow, "out", peer, message_id, type_, "queued")
        return message_id

    async def deliver_due(self, runtime: ServiceRuntime) -> int:
        """One round: claim what is due, send it (peers side by side), record the answers. Returns how
        many were claimed."""
        async with runtime.uow() as uow:
            claimed = await _claim_due(uow)
            await uow.commit()
        if not claimed:  # most rounds: no HTTP client made (making one costs more than the round)
            return 0
        by_peer = itertools.groupby(
            sorted(claimed, key=lambda r: (r.peer, r.created_at)), key=lambda r: r.peer
        )
        async with httpx.AsyncClient(timeout=self.settings.interop_timeout_s) as client:
            await asyncio.gather(*(self._deliver_to_peer(runtime, client, list(rows)) for _, rows in by_peer))
        return len(claimed)

    async def _deliver_to_peer(
        self, runtime: ServiceRuntime, client: httpx.AsyncClient, rows: list[Any]
    ) -> None:
        """One peer's messages in order; once it fails to answer, the rest wait for the next round
        (not counted as attempts), so a hanging peer costs one timeout per round, not one per message."""
        for index, row in enumerate(rows):
            outcome, detail = await self._send(client, row)
            async with runtime.uow() as uow:
                recorded = await self._record(uow, row, outcome, detail, self._asked_wait.pop(row.id, None))
                if outcome == "retry":
                    await _release(uow, rows[index + 1 :], self.settings.interop_retry_first_s)
                await uow.commit()
            if recorded in GIVEN_UP:  # counted once committed (alert YbPeerMessageGivenUp)
                metrics.PEER_GIVEN_UP.labels(runtime.service, row.peer, GIVEN_UP[recorded]).inc()
            if outcome == "retry":
                return

    async def _send(self, client: httpx.AsyncClient, row: Any) -> tuple[str, str | None]:
        peer = self.peers.get(row.peer)
        if peer is None or peer.url is None:
            return "retry", f"未配置对端经办机构 {row.peer} 的地址"
        message = Message(
            row.id, MessageType(row.type), self.signer.office_code, row.peer, row.transfer_ref, row.body
        )
        try:
            response = await client.post(
                f"{peer.url}/interop/v1/messages",
                content=self.signer.sign(message),
                headers={"Content-Type": MEDIA_TYPE},
            )
        except httpx.HTTPError as exc:
            return "retry", f"对端不可达：{exc!r}"
        if response.status_code == 200:
            ack = self._verified_answer(response.text, row.peer)
            if ack is None or ack.type is not MessageType.ack or ack.body.get("ack") != str(row.id):
                return "retry", "应答签名无效或与报文不符"
            return "delivered", None
        if 400 <= response.status_code < 500 and response.status_code not in (408, 425, 429):
            return "refused", f"{response.status_code} {response.text[:500]}"
        wait = response.headers.get("Retry-After", "")
        if wait.isdigit():  # 429 or 503: the peer says when to come back
            self._asked_wait[row.id] = float(wait)
        return "retry", f"{response.status_code} {response.text[:200]}"

    def _verified_answer(self, token: str, peer_code: str) -> Message | None:
        peer = self.peers.get(peer_code)
        try:
            _, header = read_unverified(token)
            key = peer.key(header.get("kid")) if peer else None
            if key is None:
                return None
            return verify(token, key, self.signer.office_code, self.settings.interop_max_age_s)
        except Problem:
            return None

    async def _record(
        self, uow: UnitOfWork, row: Any, outcome: str, detail: str | None, asked_wait: float | None = None
    ) -> str:
        """Write the attempt's outcome; returns it (a retry past the last attempt becomes "dead")."""
        table = interop_outbox
        if outcome == "retry" and row.attempts >= self.settings.interop_max_attempts:
            outcome, detail = "dead", f"{row.attempts} 次尝试均未送达，已停止重试：{detail}"
        if outcome == "delivered":
            values: dict[str, Any] = {"status": "delivered", "delivered_at": func.now(), "last_error": None}
        elif outcome in ("refused", "dead"):
            values = {"status": outcome, "last_error": detail}
        else:
            delay = min(
                self.settings.interop_retry_first_s * 2 ** (row.attempts - 1),
                self.settings.interop_retry_max_s,
            )
            delay = max(delay, min(asked_wait or 0, self.settings.interop_retry_max_s))
            values = {"next_attempt_at": func.now() + timedelta(seconds=delay), "last_error": detail}
        await uow.session.execute(update(table).where(table.c.id == row.id).values(values))
        await audit(uow, "out", row.peer, row.id, row.type, outcome, detail)
        if outcome in ("refused", "dead"):
            # Never silent: an alert in the log, and the case back on its office's worklist.
            log.error("interop message %s (%s) to %s %s: %s", row.id, row.type, row.peer, outcome, detail)
            if self.on_undelivered is not None:
                await self.on_undelivered(uow, row, detail or outcome)
        return outcome

    async def ask(
        self, peer_code: str, type_: MessageType, transfer_ref: uuid.UUID, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A synchronous question to a peer (status query): signed, answered with a signed ack."""
        peer = self.peers.get(peer_code)
        if peer is None or peer.url is None:
            raise Problem(422, "unknown_peer_office", "对端经办机构未配置", f"无法向 {peer_code} 查询")
        message = Message(uuid.uuid4(), type_, self.signer.office_code, peer_code, transfer_ref, body)
        try:
            async with httpx.AsyncClient(timeout=self.settings.interop_timeout_s) as client:
                response = await client.post(
                    f"{peer.url}/interop/v1/messages",
                    content=self.signer.sign(message),
                    headers={"Content-Type": MEDIA_TYPE},
                )
        except httpx.HTTPError as exc:
            raise Problem(502, "peer_unreachable", "对端经办机构暂时无法访问", repr(exc)) from exc
        answer = self._verified_answer(response.text, peer_code) if response.status_code == 200 else None
        if answer is None:
            raise Problem(
                502,
                "peer_answer_invalid",
                "对端经办机构应答无效",
                f"{response.status_code} {response.text[:200]}",
            )
        return answer.body

    # ------------------------------------------------------------------ receiving

    def authenticate(self, token: str) -> Message:
        sender, header = read_unverified(token)
        peer = self.peers.get(sender)
        if peer is None and self.peers.error is not None:
            # Our configuration is broken, not the sender: it should try again later.
            raise Problem(
                503, "peers_unavailable", "对接配置暂不可用", "本机构的对接配置有误，正在处理，请稍后重试",
                headers={"Retry-After": "60"},
            )  # fmt: skip
        if peer is None:
            raise Problem(403, "unknown_sender", "发送方不是已对接的经办机构", f"未登记的机构代码 {sender}")
        key = peer.key(header.get("kid"))
        if key is None:
            raise Problem(401, "invalid_signature", "报文签名无效", "签名密钥未在对接配置中登记")
        message = verify(token, key, self.signer.office_code, self.settings.interop_max_age_s)
        if self.limit is not None:
            self.limit.take(message.sender)
        check_body(message)
        return message

    async def receive(self, uow: UnitOfWork, message: Message, handler: Handler) -> str:
        """Apply a verified message once; returns the signed acknowledgement (the same one for a duplicate)."""
        claimed = await uow.session.execute(
            pg_insert(interop_inbox)
            .values(
                sender=message.sender,
                message_id=message.id,
                type=message.type.value,
                transfer_ref=message.transfer_ref,
                body=message.body,
            )
            .on_conflict_do_nothing()
            .returning(interop_inbox.c.message_id)
        )
        if claimed.first() is None:
            await audit(uow, "in", message.sender, message.id, message.type, "duplicate")
            return self.acknowledge(message, {"duplicate": True})
        result = await handler(uow, message)
        await audit(uow, "in", message.sender, message.id, message.type, "received")
        return self.acknowledge(message, result)

    def acknowledge(self, message: Message, result: dict[str, Any]) -> str:
        ack = Message(
            uuid.uuid4(),
            MessageType.ack,
            self.signer.office_code,
            message.sender,
            message.transfer_ref,
            {"ack": str(message.id), **result},
        )
        return self.signer.sign(ack)


async def audit(
    uow: UnitOfWork,
    direction: str,
    peer: str | None,
    message_id: Any,
    type_: Any,
    outcome: str,
    detail: str | None = None,
) -> None:
    """One row of the exchange's audit. What a sender claims is clipped to the columns and cleaned of
    NUL characters, so no refusal is ever lost to an over-long or odd value."""
    await uow.session.execute(
        insert(interop_audit).values(
            direction=direction,
            peer=_clean(peer, 200),
            message_id=_clean(message_id, 200),
            type=_clean(type_, 200),
            outcome=_clean(outcome, 30),
            detail=_clean(detail, 2000),
        )
    )


def _clean(value: Any, length: int) -> str | None:
    return str(value).replace("\x00", "")[:length] if value else None


async def _release(uow: UnitOfWork, rows: list[Any], after_s: float) -> None:
    """Give claimed messages back without counting the attempt (their peer did not answer this round)."""
    if rows:
        await uow.session.execute(
            update(interop_outbox)
            .where(interop_outbox.c.id.in_([r.id for r in rows]))
            .values(
                attempts=interop_outbox.c.attempts - 1,
                next_attempt_at=func.now() + timedelta(seconds=after_s),
            )
        )


async def requeue(uow: UnitOfWork, transfer_ref: uuid.UUID) -> int:
    """Staff re-send a case's refused or given-up messages: they are delivered again, in their order."""
    result = await uow.session.execute(
        update(interop_outbox)
        .where(
            interop_outbox.c.transfer_ref == transfer_ref, interop_outbox.c.status.in_(("refused", "dead"))
        )
        .values(status="pending", attempts=0, next_attempt_at=func.now(), last_error=None)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult


async def _claim_due(uow: UnitOfWork) -> list[Any]:
    """Due messages, only the oldest pending one of each transfer: a peer gets a transfer's messages
    in the order they were written (the table before the funds), even across retries."""
    earlier = interop_outbox.alias("earlier")
    waits_for_earlier = (
        select(earlier.c.id)
        .where(
            earlier.c.transfer_ref == interop_outbox.c.transfer_ref,
            earlier.c.status == "pending",
            earlier.c.created_at < interop_outbox.c.created_at,
        )
        .exists()
    )
    due = (
        select(interop_outbox.c.id)
        .where(
            interop_outbox.c.status == "pending",
            interop_outbox.c.next_attempt_at <= func.now(),
            ~waits_for_earlier,
        )
        .order_by(interop_outbox.c.created_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    claimed = await uow.session.execute(
        update(interop_outbox)
        .where(interop_outbox.c.id.in_(due))
        .values(
            next_attempt_at=func.now() + timedelta(seconds=LEASE_S), attempts=interop_outbox.c.attempts + 1
        )
        .returning(*interop_outbox.c)
    )
    return sorted(claimed.all(), key=lambda r: r.created_at)


@dataclass(frozen=True)
class PeerDelivery:
    peer: str
    pending: int
    refused: int
    last_delivered_at: Any
    last_error: str | None
    last_error_at: Any
    awaiting_resend: int = 0  # transfers whose message was refused or given up, until staff re-send


async def peer_delivery(uow: UnitOfWork) -> list[PeerDelivery]:
    """Per peer: messages waiting, messages refused, the last delivery and the last error."""
    o = interop_outbox
    rows = await uow.session.execute(
        select(
            o.c.peer,
            func.count().filter(o.c.status == "pending"),
            func.count().filter(o.c.status.in_(("refused", "dead"))),
            func.max(o.c.delivered_at),
            func.max(o.c.created_at).filter(o.c.last_error.is_not(None)),
            func.count(o.c.transfer_ref.distinct()).filter(o.c.status.in_(("refused", "dead"))),
        ).group_by(o.c.peer)
    )
    result = []
    for peer, pending, refused_count, delivered, failed_at, awaiting in rows:
        error = await uow.session.scalar(
            select(o.c.last_error)
            .where(o.c.peer == peer, o.c.last_error.is_not(None))
            .order_by(o.c.created_at.desc())
            .limit(1)
        )
        result.append(PeerDelivery(peer, pending, refused_count, delivered, error, failed_at, awaiting))
    return result


# What staff read of the exchange's audit: the rows' facts, not the database's hash chain (bytes).
AUDIT_SHOWN = ("id", "at", "direction", "peer", "message_id", "type", "outcome", "detail")


async def audit_rows(uow: UnitOfWork, peer: str | None, limit: int) -> list[dict[str, Any]]:
    shown = [interop_audit.c[name] for name in AUDIT_SHOWN]
    query = select(*shown).order_by(interop_audit.c.id.desc()).limit(limit)
    if peer is not None:
        query = query.where(interop_audit.c.peer == peer)
    return [dict(row) for row in (await uow.session.execute(query)).mappings()]


async def peer_statuses(uow: UnitOfWork) -> list[PeerStatus]:
    """The ops page's view of each peer: what waits, the last delivery, the last error (never contents)."""
    return [
        PeerStatus(
            d.peer,
            d.pending,
            d.last_delivered_at,
            d.last_error and d.last_error[:200],
            d.last_error_at,
            d.awaiting_resend,
        )
        for d in await peer_delivery(uow)
    ]


async def awaiting_resend(uow: UnitOfWork) -> dict[str, int]:
    """Per peer, the transfers whose message was refused for good or given up (what /health shows)."""
    o = interop_outbox
    rows = await uow.session.execute(
        select(o.c.peer, func.count(o.c.transfer_ref.distinct()))
        .where(o.c.status.in_(("refused", "dead")))
        .group_by(o.c.peer)
    )
    return {peer: count for peer, count in rows}
