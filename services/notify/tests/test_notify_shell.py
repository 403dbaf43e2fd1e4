"""The notify service's web process answers as every service must (schoolkit.testing)."""

from notify.app import create_app
from schoolkit.testing import ServiceShellChecks


class TestNotifyShell(ServiceShellChecks):
    service = "notify"
    title = "Notify"
    create_app = staticmethod(create_app)
