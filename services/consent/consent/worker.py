"""The consent worker process: relay, consumer and the coordinator's sweep (`consent-worker`)."""

from consent.coordinator import Coordinator
from consent.handlers import build_handlers
from consent.settings import ErasureSettings
from consent.sweep import Sweep
from schoolkit.worker import PeriodicTask, run_worker


def main() -> None:
    settings = ErasureSettings()
    coordinator = Coordinator(settings)
    sweep = PeriodicTask("erasure-sweep", settings.sweep_seconds, Sweep(coordinator))
    run_worker("consent", build_handlers(coordinator), tasks=[sweep])
