"""The journal service's web process answers as every service must (schoolkit.testing)."""

from journal.app import create_app
from schoolkit.testing import ServiceShellChecks


class TestJournalShell(ServiceShellChecks):
    service = "journal"
    title = "Journal"
    create_app = staticmethod(create_app)
