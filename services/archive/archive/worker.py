"""The archive worker process: relay, consumer, scheduled backups (`archive-worker`)."""

from archive.handlers import build_handlers
from archive.keys import KeyStore, master_key_from_env
from archive.schedule import ScheduledBackups
from schoolkit.settings import Settings
from schoolkit.worker import PeriodicTask, run_worker

CHECK_SECONDS = 60.0


def main() -> None:
    settings = Settings.from_env("archive")
    keys = KeyStore(master_key_from_env())
    backups = PeriodicTask("backups", CHECK_SECONDS, ScheduledBackups(settings.var_dir))
    run_worker("archive", build_handlers(keys), settings, tasks=[backups])
