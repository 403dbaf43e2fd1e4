"""Every event a service handles or publishes is wired in the AsyncAPI document, with that service."""

from __future__ import annotations

import importlib
import tomllib

import pytest

from schoolkit.contracts import load_contracts
from schoolkit.settings import project_root
from schoolkit.testing import SERVICES

CONTRACTS = load_contracts(project_root() / "contracts")


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
