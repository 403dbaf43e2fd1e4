"""The notify worker process: outbox relay, consumer, and the sender (`notify-worker`)."""

from notify.config import DeliveryConfig
from notify.handlers import build_handlers
from notify.receipts import ReceiptPoller
from notify.sending import Sender
from schoolkit.worker import PeriodicTask, run_worker


def main() -> None:
    config = DeliveryConfig.from_env()
    tasks = [PeriodicTask("sender", config.send_interval_seconds, Sender(config))]
    if "smsru" in config.sms_providers:
        tasks.append(
            PeriodicTask("receipts", config.receipts_interval_seconds, ReceiptPoller(config))
        )
    run_worker("notify", build_handlers(config), tasks=tasks)
