"""The diary worker process: outbox relay and consumer (`diary-worker`)."""

from diary.handlers import HANDLERS
from schoolkit.worker import run_worker


def main() -> None:
    run_worker("diary", HANDLERS)
