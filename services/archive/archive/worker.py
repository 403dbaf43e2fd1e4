"""The archive worker process: relay, consumer, scheduled backups (`archive-worker`)."""

from collections.abc import Mapping
from dataclasses import dataclass

from archive.dbschedule import DatabaseBackups
from archive.handlers import build_handlers
from archive.keys import KeyStore, master_key_from_env
from archive.schedule import RequestedBackups, ScheduledBackups
from schoolkit.consumer import Handler
from schoolkit.settings import Settings
from schoolkit.worker import PeriodicTask, run_worker

CHECK_SECONDS = 60.0
# How soon an administrator's on-demand backup starts.
REQUEST_CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class ArchiveWorker:
    """What the worker runs, built before it runs: the key store first, so a deployed
    worker without its master key stops at start (schoolkit.keys), not at its first event."""

    settings: Settings
    handlers: Mapping[str, Handler]
    tasks: list[PeriodicTask]


def build() -> ArchiveWorker:
    settings = Settings.from_env("archive")
    keys = KeyStore(master_key_from_env())
    backups = PeriodicTask("backups", CHECK_SECONDS, ScheduledBackups(settings.var_dir))
    requested = RequestedBackups(settings.var_dir)
    requested_backups = PeriodicTask("requested-backups", REQUEST_CHECK_SECONDS, requested)
    # Every service's database (issue 18): a job here, never inside a request.
    databases = DatabaseBackups(settings.var_dir, keys.master_key)
    database_backups = PeriodicTask("database-backups", CHECK_SECONDS, databases)
    tasks = [backups, requested_backups, database_backups]
    return ArchiveWorker(settings, build_handlers(keys), tasks)


def main() -> None:
    worker = build()
    run_worker("archive", worker.handlers, worker.settings, tasks=worker.tasks)
