"""The archive worker process: outbox relay and consumer (`archive-worker`)."""

from archive.handlers import HANDLERS
from schoolkit.worker import run_worker


def main() -> None:
    run_worker("archive", HANDLERS)
