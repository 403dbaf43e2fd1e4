"""The identity worker process: outbox relay and consumer (`identity-worker`)."""

from identity.handlers import HANDLERS
from schoolkit.worker import run_worker


def main() -> None:
    run_worker("identity", HANDLERS)
