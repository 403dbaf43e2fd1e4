"""Exchanges and queues of the bus, named so that the broker's own UI explains itself.

    <ns>.events                    topic exchange; routing key = event type
    <ns>.<service>.<event type>    quorum queue of one consuming service for one type
    <ns>.<service>.delay.<n>ms     one delay queue per retry delay; expired messages
                                   dead-letter to <ns>.requeue
    <ns>.requeue                   headers exchange: routes a delayed message back to the
                                   queue named in its retry-to-queue header
    <ns>.<service>.parked          quorum queue keeping what failed for good, with the reason,
                                   and the service's events no queue took (its relay parks them)

The delivery limit of each quorum queue catches a worker that dies on a message before
it can ack it: past the limit the broker dead-letters the message to the parking queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pika.adapters.blocking_connection import BlockingChannel

# RabbitMQ's headers exchange ignores headers that start with "x-" when matching.
RETRY_QUEUE_HEADER = "retry-to-queue"


@dataclass(frozen=True)
class BusNames:
    namespace: str
    service: str

    @property
    def exchange(self) -> str:
        return f"{self.namespace}.events"

    @property
    def requeue_exchange(self) -> str:
        return f"{self.namespace}.requeue"

    @property
    def parking_queue(self) -> str:
        return f"{self.namespace}.{self.service}.parked"

    def queue(self, event_type: str) -> str:
        return f"{self.namespace}.{self.service}.{event_type}"

    def delay_queue(self, delay_seconds: float) -> str:
        return f"{self.namespace}.{self.service}.delay.{round(delay_seconds * 1000)}ms"


@dataclass(frozen=True)
class Topology:
    names: BusNames
    event_types: tuple[str, ...]
    retry_delays: tuple[float, ...]
    delivery_limit: int

    def queue_names(self) -> list[str]:
        return [self.names.queue(event_type) for event_type in self.event_types]

    def all_queue_names(self) -> list[str]:
        delays = [self.names.delay_queue(delay) for delay in self.retry_delays]
        return [*self.queue_names(), *delays, self.names.parking_queue]

    def declare(self, channel: BlockingChannel) -> None:
        """Declare everything this service consumes through; safe to run at every start."""
        declare_exchanges(channel, self.names.namespace)
        declare_parking_queue(channel, self.names)
        for delay in self.retry_delays:
            self._declare_delay_queue(channel, delay)
        for event_type in self.event_types:
            self._declare_consumer_queue(channel, event_type)

    def _declare_consumer_queue(self, channel: BlockingChannel, event_type: str) -> None:
        queue = self.names.queue(event_type)
        channel.queue_declare(
            queue,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": self.delivery_limit,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.names.parking_queue,
            },
        )
        channel.queue_bind(queue, self.names.exchange, routing_key=event_type)
        channel.queue_bind(
            queue,
            self.names.requeue_exchange,
            arguments={"x-match": "all", RETRY_QUEUE_HEADER: queue},
        )

    def _declare_delay_queue(self, channel: BlockingChannel, delay: float) -> None:
        channel.queue_declare(
            self.names.delay_queue(delay),
            durable=True,
            arguments={
                "x-message-ttl": round(delay * 1000),
                "x-dead-letter-exchange": self.names.requeue_exchange,
            },
        )

    def delete(self, channel: BlockingChannel) -> None:
        """Remove this service's queues (tests, and an operator retiring a service)."""
        for queue in self.all_queue_names():
            channel.queue_delete(queue)


def declare_exchanges(channel: BlockingChannel, namespace: str) -> None:
    channel.exchange_declare(f"{namespace}.events", "topic", durable=True)
    channel.exchange_declare(f"{namespace}.requeue", "headers", durable=True)


def declare_parking_queue(channel: BlockingChannel, names: BusNames) -> None:
    """The service's parking queue: what its consumer gave up on, and what its relay found
    no queue for (an unroutable event)."""
    channel.queue_declare(names.parking_queue, durable=True, arguments={"x-queue-type": "quorum"})


def delete_exchanges(channel: BlockingChannel, namespace: str) -> None:
    for exchange in (f"{namespace}.events", f"{namespace}.requeue"):
        channel.exchange_delete(exchange)


def topology_for(
    namespace: str,
    service: str,
    event_types: Iterable[str],
    retry_delays: Iterable[float],
    delivery_limit: int,
) -> Topology:
    return Topology(
        BusNames(namespace, service),
        tuple(sorted(event_types)),
        tuple(retry_delays),
        delivery_limit,
    )
