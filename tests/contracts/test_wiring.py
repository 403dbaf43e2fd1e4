"""The AsyncAPI document and the services' wiring agree in both directions: every event a
service handles or publishes is in the document, with that service, and every receive
operation of the document has its handler and its bound queue in that service."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pika
import pytest

from schoolkit.consumer import Consumer
from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.settings import project_root
from schoolkit.testing import SERVICES, Bus

CONTRACTS = load_contracts(project_root() / "contracts")

# issue 17 implements these: the receive operations of notify that the AsyncAPI document
# already promises and notify does not serve yet (notify, part 2). Until a type has its
# handler, no queue takes it for notify, and an event that no other service takes either
# is parked by its producer as unroutable (schoolkit.relay). Remove each type from here
# in the commit that adds its handler: the last test below insists.
NOTIFY_RECEIVERS_ISSUE_17_IMPLEMENTS = frozenset(
    {
        # A failed backup should reach the school's responsible employee; notify does not
        # tell staff yet. Until it does, the archive's relay parks these (EventsUnroutable).
        "archive.backup.completed",
        "archive.backup.failed",
    }
)


def handled_by(service: str) -> set[str]:
    return set(importlib.import_module(f"{service}.handlers").HANDLERS)


def promised_to(service: str) -> set[str]:
    """The types the AsyncAPI document says `service` receives, but those still planned."""
    planned = NOTIFY_RECEIVERS_ISSUE_17_IMPLEMENTS if service == "notify" else frozenset()
    return {t for t, route in CONTRACTS.routes.items() if service in route.receivers} - planned


@pytest.mark.parametrize("service", SERVICES)
def test_every_type_asyncapi_says_a_service_receives_has_its_handler(service: str) -> None:
    unserved = sorted(promised_to(service) - handled_by(service))
    assert not unserved, f"asyncapi.yaml says {service} receives {unserved}; no handler does"


@pytest.mark.parametrize("service", SERVICES)
def test_every_type_asyncapi_says_a_service_receives_reaches_its_queue(
    service: str, bus: Bus, tmp_path: Path
) -> None:
    """Declared as the service's worker declares it, each promised type is routed to a
    queue of the service: a probe published with `mandatory` is not returned unroutable."""
    settings = bus.settings(service, f"sqlite:///{tmp_path / 'unused.db'}")
    consumer = Consumer(settings, Database(settings.database_url), _handlers(service), CONTRACTS)
    channel = bus.channel()
    try:
        consumer.topology.declare(channel)
        channel.confirm_delivery()
        unrouted = [t for t in sorted(promised_to(service)) if not _routed(channel, bus, t)]
    finally:
        channel.connection.close()
    assert not unrouted, f"no queue of {service} takes {unrouted}"


def test_notifys_planned_receivers_leave_the_allow_list_once_handled() -> None:
    handled = sorted(NOTIFY_RECEIVERS_ISSUE_17_IMPLEMENTS & handled_by("notify"))
    assert not handled, f"notify handles {handled} now: take them off the issue 17 list"
    promised = {t for t, route in CONTRACTS.routes.items() if "notify" in route.receivers}
    assert promised >= NOTIFY_RECEIVERS_ISSUE_17_IMPLEMENTS


def _handlers(service: str) -> dict[str, object]:
    return dict(importlib.import_module(f"{service}.handlers").HANDLERS)


def _routed(channel: pika.adapters.blocking_connection.BlockingChannel, bus: Bus, t: str) -> bool:
    try:
        channel.basic_publish(
            f"{bus.namespace}.events",
            t,
            b"{}",
            properties=pika.BasicProperties(message_id=f"probe-{t}", type=t),
            mandatory=True,
        )
        return True
    except pika.exceptions.UnroutableError:
        return False


@pytest.mark.parametrize("service", SERVICES)
def test_every_type_a_service_handles_lists_it_as_receiver(service: str) -> None:
    handlers = importlib.import_module(f"{service}.handlers").HANDLERS
    for event_type in handlers:
        assert service in CONTRACTS.route(event_type).receivers, (
            f"{service} handles {event_type} but asyncapi.yaml has no receive operation for it"
        )


@pytest.mark.parametrize("service", SERVICES)
def test_every_type_a_service_publishes_names_it_as_sender(service: str) -> None:
    published = importlib.import_module(f"{service}.events").PUBLISHES
    for event_type in published:
        assert CONTRACTS.route(event_type).sender == service


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "identity"])
def test_every_service_but_identity_follows_identitys_deny_list(service: str) -> None:
    handlers = importlib.import_module(f"{service}.handlers").HANDLERS
    assert {
        "identity.account.blocked",
        "identity.account.unblocked",
        "identity.session.revoked",
    } <= set(handlers)


def test_a_handler_table_with_a_type_the_contract_does_not_route_is_refused() -> None:
    from schoolkit.contracts import ContractViolation

    with pytest.raises(ContractViolation, match="does not list diary as a receiver"):
        CONTRACTS.check_receiver("diary", ["identity.contact.changed"])


PARTICIPANTS = tomllib.loads(
    (project_root() / "services/consent/consent/data/participants.toml").read_text()
)


@pytest.mark.parametrize(
    "service", ["identity", "journal", "diary", "notify", "archive", "consent"]
)
def test_a_participant_buries_only_on_requests_covering_what_consent_says_it_holds(
    service: str,
) -> None:
    # The kit buries a request's subjects only when it covers everything `holds` names: a
    # list out of step with consent's would bury a student whose data still lives here
    # (an ended diary agreement asks nothing of the journal) or never bury anyone.
    holds = importlib.import_module(f"{service}.erasure").HOLDS
    assert set(holds) == set(PARTICIPANTS[service]["holds"])
