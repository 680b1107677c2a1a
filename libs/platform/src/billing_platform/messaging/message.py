"""Messages as they travel on the bus, independent of the broker."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from billing_domain.events import IntegrationEvent

from billing_platform.settings import DEFAULT_EXCHANGE


@dataclass(frozen=True, kw_only=True)
class OutgoingMessage:
    """One message to publish: persistent, identified by ``message_id``."""

    message_id: str
    routing_key: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: IntegrationEvent) -> OutgoingMessage:
        return cls(
            message_id=str(event.id),
            routing_key=event.routing_key,
            body=json.dumps(event.to_envelope(), separators=(",", ":")).encode(),
        )


@dataclass(frozen=True, kw_only=True)
class IncomingMessage:
    """One delivery handed to a consumer's handler."""

    message_id: str
    routing_key: str
    body: bytes
    redelivered: bool = False
    delivery_count: int = 0
    _decoded: Any = field(default=None, init=False, repr=False, compare=False)

    def json(self) -> Any:
        """The decoded body, decoded once (the publisher check and the consumer share it)."""
        if self._decoded is None:
            object.__setattr__(self, "_decoded", json.loads(self.body))
        return self._decoded


MessageHandler = Callable[[IncomingMessage], Awaitable[None]]


def consumer_queue(queue: str, exchange: str) -> str:
    """A consumer's queue: ``queue`` on the production exchange, one of its own on any
    other (tests, staging), so runs on different exchanges never share messages."""
    return queue if exchange == DEFAULT_EXCHANGE else f"{queue}.{exchange}"


class PoisonMessage(Exception):  # noqa: N818 - the name is the concept
    """The handler can never process this message: dead-letter it at once."""


class MessagePublisher(Protocol):
    """Publishes one message; returns only once the broker has confirmed it."""

    async def publish(self, message: OutgoingMessage) -> None: ...


class MessageBus(MessagePublisher, Protocol):
    """A publisher that also runs consumers bound to the billing exchange."""

    async def subscribe(
        self,
        queue: str,
        binding_keys: list[str],
        handler: MessageHandler,
        *,
        prefetch: int = 16,
        delivery_limit: int = 5,
    ) -> None: ...

    async def is_ready(self) -> bool: ...

    async def close(self) -> None: ...
