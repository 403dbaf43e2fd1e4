"""The archive service's web process answers as every service must (schoolkit.testing)."""

from archive.app import create_app
from schoolkit.testing import ServiceShellChecks


class TestArchiveShell(ServiceShellChecks):
    service = "archive"
    title = "Archive"
    create_app = staticmethod(create_app)
