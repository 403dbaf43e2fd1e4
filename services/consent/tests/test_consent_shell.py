"""The consent service's web process answers as every service must (schoolkit.testing)."""

from consent.app import create_app
from schoolkit.testing import ServiceShellChecks


class TestConsentShell(ServiceShellChecks):
    service = "consent"
    title = "Consent"
    create_app = staticmethod(create_app)
