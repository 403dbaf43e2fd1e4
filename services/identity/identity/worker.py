"""The identity worker process: outbox relay and consumer (`identity-worker`)."""

from identity.handlers import HANDLERS
from identity.oauth import housekeeping
from schoolkit.worker import run_worker


def main() -> None:
    run_worker("identity", HANDLERS, tasks=[housekeeping.PRUNE])
