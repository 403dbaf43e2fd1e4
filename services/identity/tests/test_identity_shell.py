"""The identity service's web process answers as every service must (schoolkit.testing)."""

from identity.app import create_app
from schoolkit.testing import ServiceShellChecks


class TestIdentityShell(ServiceShellChecks):
    service = "identity"
    title = "Identity"
    create_app = staticmethod(create_app)
