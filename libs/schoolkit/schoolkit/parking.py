"""The parking queue of a service: what failed for good, with the reason, until an operator acts.

schoolkit-parking --service diary list
schoolkit-parking --service diary show <message id>
schoolkit-parking --service diary replay <message id> | --all
schoolkit-parking --service diary purge <message id> | --all
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import ChannelClosedByBroker
from pika.spec import Basic, BasicProperties

from schoolkit.consumer import (
    ATTEMPT_HEADER,
    LAST_ERROR_HEADER,
    ORIGIN_QUEUE_HEADER,
    PARKED_AT_HEADER,
    PARKED_REASON_HEADER,
)
from schoolkit.settings import Settings
from schoolkit.topology import RETRY_QUEUE_HEADER, BusNames


@dataclass(frozen=True)
class ParkedMessage:
    message_id: str
    event_type: str
    reason: str
    origin_queue: str
    parked_at: str
    attempts: int
    headers: dict[str, Any]
    body: bytes

    def summary(self) -> str:
        return f"{self.message_id}  {self.event_type}  {self.parked_at}  {self.reason}"


def _from_broker(properties: BasicProperties, body: bytes) -> ParkedMessage:
    headers = dict(properties.headers or {})
    deaths = headers.get("x-death") or [{}]
    reason = headers.get(PARKED_REASON_HEADER)
    if reason is None:
        # Parked by the broker itself: the delivery limit of its queue was reached.
        reason = f"dead-lettered by the broker: {deaths[0].get('reason', 'unknown')}"
    origin = headers.get(ORIGIN_QUEUE_HEADER) or deaths[0].get("queue", "")
    return ParkedMessage(
        message_id=properties.message_id or "",
        event_type=properties.type or "",
        reason=str(reason),
        origin_queue=str(origin),
        parked_at=str(headers.get(PARKED_AT_HEADER) or deaths[0].get("time", "")),
        attempts=int(headers.get(ATTEMPT_HEADER, 0)),
        headers=headers,
        body=body,
    )


Decision = Callable[[ParkedMessage], bool]
NOT_FOUND = 404


class ParkingLot:
    def __init__(self, amqp_url: str, namespace: str, service: str) -> None:
        self._amqp_url = amqp_url
        self.queue = BusNames(namespace, service).parking_queue

    @contextmanager
    def _channel(self) -> Iterator[BlockingChannel]:
        connection = pika.BlockingConnection(pika.URLParameters(self._amqp_url))
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            yield channel
        finally:
            if connection.is_open:
                connection.close()

    def list(self) -> list[ParkedMessage]:
        seen, _ = self._walk(lambda _message: False)
        return seen

    def replay(self, wanted: Decision) -> list[ParkedMessage]:
        """Send the chosen messages back to the queue they came from, as a first attempt."""
        _, taken = self._walk(wanted, send_back=True)
        return taken

    def purge(self, wanted: Decision) -> list[ParkedMessage]:
        _, taken = self._walk(wanted)
        return taken

    def _walk(
        self, wanted: Decision, send_back: bool = False
    ) -> tuple[list[ParkedMessage], list[ParkedMessage]]:
        """Look at every parked message once; take the wanted ones, leave the rest parked."""
        seen: list[ParkedMessage] = []
        taken: list[ParkedMessage] = []
        with self._channel() as channel:
            try:
                count = channel.queue_declare(self.queue, passive=True).method.message_count
            except ChannelClosedByBroker as closed:
                if closed.reply_code == NOT_FOUND:
                    return seen, taken  # never declared: nothing was ever parked
                raise
            for _ in range(count):
                method, properties, body = channel.basic_get(self.queue, auto_ack=False)
                if method is None:
                    break
                message = _from_broker(properties, body)
                seen.append(message)
                if wanted(message):
                    if send_back:
                        _send_back(channel, message, properties)
                    channel.basic_ack(_tag(method))
                    taken.append(message)
            # Everything not taken goes back to the parking queue untouched.
            channel.basic_nack(delivery_tag=0, multiple=True, requeue=True)
        return seen, taken


def _tag(method: Basic.GetOk) -> int:
    return int(method.delivery_tag)


# What the retry path and the parking added; a replayed message starts afresh without them.
_OPERATIONAL_HEADERS = (
    PARKED_REASON_HEADER,
    PARKED_AT_HEADER,
    ORIGIN_QUEUE_HEADER,
    ATTEMPT_HEADER,
    LAST_ERROR_HEADER,
    RETRY_QUEUE_HEADER,
)


def _send_back(
    channel: BlockingChannel, message: ParkedMessage, properties: BasicProperties
) -> None:
    headers = {
        key: value
        for key, value in message.headers.items()
        if key not in _OPERATIONAL_HEADERS
        and not key.startswith("x-death")
        and not key.startswith("x-first-death")
        and not key.startswith("x-last-death")
    }
    channel.basic_publish(
        "",
        message.origin_queue,
        message.body,
        properties=BasicProperties(
            message_id=properties.message_id,
            type=properties.type,
            content_type=properties.content_type,
            delivery_mode=pika.DeliveryMode.Persistent,
            headers=headers,
        ),
        mandatory=True,
    )


def _chooser(message_id: str | None, everything: bool) -> Decision:
    if everything:
        return lambda _message: True
    return lambda message: message.message_id == message_id


def _print_message(message: ParkedMessage) -> None:
    print(f"message id:   {message.message_id}")  # noqa: T201 - this is a command line
    print(f"event type:   {message.event_type}")  # noqa: T201
    print(f"parked at:    {message.parked_at}")  # noqa: T201
    print(f"attempts:     {message.attempts}")  # noqa: T201
    print(f"origin queue: {message.origin_queue}")  # noqa: T201
    print(f"reason:       {message.reason}")  # noqa: T201
    try:
        print(json.dumps(json.loads(message.body), indent=2, ensure_ascii=False))  # noqa: T201
    except ValueError:
        print(message.body.decode(errors="replace"))  # noqa: T201


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="schoolkit-parking",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--service", required=True, help="the consuming service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="one line per parked message")
    show = commands.add_parser("show", help="one message with its headers and body")
    show.add_argument("message_id")
    for name in ("replay", "purge"):
        command = commands.add_parser(name)
        which = command.add_mutually_exclusive_group(required=True)
        which.add_argument("message_id", nargs="?")
        which.add_argument("--all", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env(args.service)
    lot = ParkingLot(settings.amqp_url, settings.bus_namespace, args.service)
    if args.command == "list":
        for message in lot.list():
            print(message.summary())  # noqa: T201
        return 0
    if args.command == "show":
        found = [m for m in lot.list() if m.message_id == args.message_id]
        if not found:
            print(f"no parked message {args.message_id}", file=sys.stderr)  # noqa: T201
            return 1
        _print_message(found[0])
        return 0
    act = lot.replay if args.command == "replay" else lot.purge
    done = act(_chooser(args.message_id, args.all))
    print(f"{args.command}: {len(done)} message(s)")  # noqa: T201
    return 0 if done or args.all else 1


if __name__ == "__main__":
    sys.exit(main())
