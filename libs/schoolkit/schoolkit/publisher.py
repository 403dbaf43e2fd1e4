"""Publishing with publisher confirms over a window: many messages in flight, each confirmed.

pika's BlockingChannel waits for each confirm before the next publish, which caps a
quorum queue at one Raft commit per message. This publisher drives pika's asynchronous
SelectConnection from the calling thread instead: it sends a whole batch, then runs the
I/O loop until every message is acked, nacked or returned (`mandatory`), or time runs out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pika
from pika.channel import Channel
from pika.spec import Basic, BasicProperties

log = logging.getLogger(__name__)


class BrokerUnavailable(ConnectionError):
    """The broker cannot be reached or the connection was lost."""


# The reason a publish outcome starts with when the broker returned the message: no queue
# is bound to its routing key.
UNROUTABLE = "unroutable"


@dataclass(frozen=True)
class OutgoingMessage:
    message_id: str
    routing_key: str
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)
    # None: the publisher's own exchange; "" is the default exchange (straight to a queue).
    exchange: str | None = None
    # The type of the event inside, when the routing key is not it (a parked copy).
    event_type: str | None = None


class ConfirmingPublisher:
    """One connection and one confirm-mode channel, used from a single thread."""

    def __init__(self, amqp_url: str, exchange: str, connect_timeout: float = 5.0) -> None:
        self._parameters = pika.URLParameters(amqp_url)
        self._parameters.socket_timeout = connect_timeout
        self._parameters.connection_attempts = 1
        self._exchange = exchange
        self._connect_timeout = connect_timeout
        self._connection: pika.SelectConnection | None = None
        self._channel: Channel | None = None
        self._opening_channel: Channel | None = None
        self._failure: str | None = None
        self._waiting_for: Callable[[], bool] | None = None
        self._next_tag = 0
        self._pending: dict[int, str] = {}
        self._outcomes: dict[str, str | None] = {}
        self._returned: dict[str, str] = {}

    @property
    def exchange(self) -> str:
        return self._exchange

    @property
    def connected(self) -> bool:
        return self._channel is not None and self._channel.is_open

    def connect(self) -> None:
        self._failure = None
        self._connection = pika.SelectConnection(
            self._parameters,
            on_open_callback=self._on_connection_open,
            on_open_error_callback=self._on_connection_error,
            on_close_callback=self._on_connection_closed,
        )
        self._run_until(lambda: self.connected or self._failure is not None, self._connect_timeout)
        if not self.connected:
            reason = self._failure or "timed out"
            self.close()
            raise BrokerUnavailable(f"cannot open a channel to the broker: {reason}")

    def publish_batch(
        self, messages: Sequence[OutgoingMessage], timeout: float = 10.0
    ) -> dict[str, str | None]:
        """Publish all, wait for their confirms; map each message id to None or an error."""
        if not self.connected:
            self.connect()
        assert self._channel is not None
        self._outcomes, self._returned = {}, {}
        for message in messages:
            self._next_tag += 1
            self._pending[self._next_tag] = message.message_id
            self._channel.basic_publish(
                self._exchange if message.exchange is None else message.exchange,
                message.routing_key,
                message.body,
                properties=_properties(message),
                mandatory=True,
            )
        self._run_until(lambda: not self._pending or self._failure is not None, timeout)
        return self._collect(messages)

    def keepalive(self) -> None:
        """Let the I/O loop answer heartbeats while the relay has nothing to send."""
        if self._connection is not None and self.connected:
            self._run_until(lambda: True, 0.0, spin=True)

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        self._pending.clear()
        if connection is not None and connection.is_open:
            connection.close()
            deadline = time.monotonic() + 2
            while not connection.is_closed and time.monotonic() < deadline:
                connection.ioloop.call_later(0.05, connection.ioloop.stop)
                connection.ioloop.start()

    def _collect(self, messages: Sequence[OutgoingMessage]) -> dict[str, str | None]:
        lost = self._failure or "no confirm from the broker in time"
        for message_id in self._pending.values():
            self._outcomes[message_id] = lost
        self._pending.clear()
        if self._failure is not None:
            self.close()
        results: dict[str, str | None] = {}
        for message in messages:
            outcome = self._outcomes.get(message.message_id, lost)
            results[message.message_id] = self._returned.get(message.message_id, outcome)
        return results

    def _run_until(self, done: Callable[[], bool], timeout: float, spin: bool = False) -> None:
        if self._connection is None or (done() and not spin):
            return
        ioloop = self._connection.ioloop
        self._waiting_for = done
        timer = ioloop.call_later(timeout, ioloop.stop)
        try:
            ioloop.start()
        finally:
            ioloop.remove_timeout(timer)
            self._waiting_for = None

    def _wake_if_done(self) -> None:
        if self._waiting_for is not None and self._waiting_for() and self._connection:
            self._connection.ioloop.stop()

    def _on_connection_open(self, connection: pika.SelectConnection) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_connection_error(self, _connection: Any, error: BaseException) -> None:
        self._failure = f"{type(error).__name__}: {error}"
        self._wake_if_done()

    def _on_connection_closed(self, _connection: Any, reason: BaseException) -> None:
        self._channel = None
        self._failure = self._failure or f"connection closed: {reason}"
        self._wake_if_done()

    def _on_channel_open(self, channel: Channel) -> None:
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        self._opening_channel = channel
        self._next_tag = 0
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_ok)

    def _on_confirm_ok(self, _frame: Any) -> None:
        self._channel = self._opening_channel
        self._wake_if_done()

    def _on_channel_closed(self, _channel: Channel, reason: BaseException) -> None:
        self._channel = None
        self._failure = f"channel closed: {reason}"
        self._wake_if_done()

    def _on_return(
        self, _channel: Channel, method: Basic.Return, properties: BasicProperties, _body: bytes
    ) -> None:
        # mandatory: the broker hands back what no queue took, before it acks it.
        message_id = properties.message_id or ""
        self._returned[message_id] = f"{UNROUTABLE}: {method.reply_code} {method.reply_text}"

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        error = None if isinstance(method, Basic.Ack) else "nacked by the broker"
        tags = (
            [tag for tag in self._pending if tag <= method.delivery_tag]
            if method.multiple
            else [method.delivery_tag]
        )
        for tag in tags:
            message_id = self._pending.pop(tag, None)
            if message_id is not None:
                self._outcomes[message_id] = error
        self._wake_if_done()


def _properties(message: OutgoingMessage) -> BasicProperties:
    return BasicProperties(
        message_id=message.message_id,
        type=message.event_type or message.routing_key,
        content_type="application/json",
        delivery_mode=pika.DeliveryMode.Persistent,
        headers=message.headers or None,
    )
