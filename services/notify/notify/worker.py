"""The notify worker process: outbox relay and consumer (`notify-worker`)."""

from notify.handlers import HANDLERS
from schoolkit.worker import run_worker


def main() -> None:
    run_worker("notify", HANDLERS)
