"""The journal worker process: outbox relay and consumer (`journal-worker`)."""

from journal.handlers import HANDLERS
from schoolkit.worker import run_worker


def main() -> None:
    run_worker("journal", HANDLERS)
