"""The diary service's web process answers as every service must (schoolkit.testing)."""

from diary.app import create_app
from schoolkit.testing import ServiceShellChecks


class TestDiaryShell(ServiceShellChecks):
    service = "diary"
    title = "Diary"
    create_app = staticmethod(create_app)
