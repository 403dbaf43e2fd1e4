"""The notify worker process: outbox relay, consumer, and the sender (`notify-worker`)."""

from notify.config import DeliveryConfig
from notify.handlers import build_handlers
from notify.sending import Sender
from schoolkit.worker import PeriodicTask, run_worker


def main() -> None:
    config = DeliveryConfig.from_env()
    sender = PeriodicTask("sender", config.send_interval_seconds, Sender(config))
    run_worker("notify", build_handlers(config), tasks=[sender])
