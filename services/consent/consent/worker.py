"""The consent worker process: outbox relay and consumer (`consent-worker`)."""

from consent.handlers import HANDLERS
from schoolkit.worker import run_worker


def main() -> None:
    run_worker("consent", HANDLERS)
