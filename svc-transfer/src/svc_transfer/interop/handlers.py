"""Peer messages as an entry point, like HTTP routes and events: each type runs its use case."""

from __future__ import annotations

from typing import Any

from shared.db import UnitOfWork
from shared.errors import Invalid
from svc_transfer.interop.exchange import Handler, Interop
from svc_transfer.interop.protocol import Message, MessageType
from svc_transfer.usecases import messages


def message_handler(interop: Interop) -> Handler:
    """What each message type does here; the exchange calls it once per message."""

    async def handle(uow: UnitOfWork, message: Message) -> dict[str, Any]:
        match message.type:
            case MessageType.letter:
                return await messages.receive_letter(uow, message, interop=interop)
            case MessageType.information_table | MessageType.fund_transfer:
                return await messages.receive_table_or_funds(uow, message, interop=interop)
            case MessageType.rejection:
                return await messages.receive_rejection(uow, message)
            case MessageType.status_query:
                return await messages.answer_status_query(uow, message)
        raise Invalid("unsupported_message", "不支持的报文类型", message.type.value)

    return handle
