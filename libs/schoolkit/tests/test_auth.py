"""Tokens are verified locally against identity's JWKS, served here by a fake on loopback."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import pytest
from flask import Flask

from schoolkit.auth import DIRECTOR, TokenRejected, TokenVerifier

ITEM = "/api/demo/v1/items/1"
SYNC = "/api/demo/v1/sync"
STAFF_ROOM = "/api/demo/v1/staff-room"


def test_a_valid_token_lets_the_user_in(app: Flask, identity, auth_header) -> None:
    answer = app.test_client().get(ITEM, headers=auth_header(identity.issue(sub="teacher-9")))
    assert answer.status_code == 200
    assert answer.get_json() == {"item_id": 1, "user_id": "teacher-9"}


def test_without_a_token_the_answer_is_401_with_a_bearer_challenge(app: Flask) -> None:
    answer = app.test_client().get(ITEM)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": int(time.time()) - 120}, id="expired"),
        pytest.param({"iss": "someone-else"}, id="wrong-issuer"),
        pytest.param({"school_id": None}, id="no-school"),
        pytest.param({"sub": None}, id="no-subject"),
        pytest.param({"nbf": int(time.time()) + 600}, id="not-yet-valid"),
    ],
)
def test_a_token_with_wrong_claims_is_refused_with_401(
    app: Flask, identity, auth_header, claims: dict
) -> None:
    answer = app.test_client().get(ITEM, headers=auth_header(identity.issue(**claims)))
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "invalid_token"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_expired_within_the_leeway_still_passes(app: Flask, identity, auth_header) -> None:
    token = identity.issue(exp=int(time.time()) - 5)
    assert app.test_client().get(ITEM, headers=auth_header(token)).status_code == 200


def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(
    app: Flask, identity, auth_header
) -> None:
    impostor = identity.new_key("key-1")  # same kid as the published key, other secret
    answer = app.test_client().get(ITEM, headers=auth_header(identity.issue(key=impostor)))
    assert answer.status_code == 401


def unsigned(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'kid': 'key-1'})}.{part(claims)}."


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "a.b.c.d.e"])
def test_garbage_in_the_bearer_header_is_refused_with_401(
    app: Flask, auth_header, token: str
) -> None:
    assert app.test_client().get(ITEM, headers=auth_header(token)).status_code == 401


def test_an_unsigned_alg_none_token_is_refused(app: Flask, identity, auth_header) -> None:
    now = int(time.time())
    token = unsigned(
        {"iss": "test-identity", "sub": "u", "school_id": "s", "iat": now, "exp": now + 60}
    )
    assert app.test_client().get(ITEM, headers=auth_header(token)).status_code == 401


def test_a_user_without_the_required_role_is_forbidden(app: Flask, identity, auth_header) -> None:
    token = identity.issue(roles=["subject_teacher", "class_teacher"])
    answer = app.test_client().get(STAFF_ROOM, headers=auth_header(token))
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "forbidden"


def test_a_user_with_the_required_role_is_let_in(app: Flask, identity, auth_header) -> None:
    token = identity.issue(sub="director-1", roles=[DIRECTOR])
    answer = app.test_client().get(STAFF_ROOM, headers=auth_header(token))
    assert answer.status_code == 200
    assert answer.get_json() == {"welcome": "director-1"}


def test_a_role_guarded_view_still_asks_for_a_token_first(app: Flask) -> None:
    assert app.test_client().get(STAFF_ROOM).status_code == 401


def test_roles_may_come_as_a_space_separated_string(app: Flask, identity, auth_header) -> None:
    token = identity.issue(roles=f"guardian {DIRECTOR}")
    assert app.test_client().get(STAFF_ROOM, headers=auth_header(token)).status_code == 200


def test_the_principal_carries_ids_roles_session_and_client(identity) -> None:
    verifier = TokenVerifier(identity.jwks_url, "test-identity")
    principal = verifier.verify(
        identity.issue(sub="u-5", school_id="s-2", roles=["student"], client_id="web")
    )
    assert principal.user_id == "u-5"
    assert principal.school_id == "s-2"
    assert principal.roles == frozenset({"student"})
    assert principal.session_id == "session-1"
    assert principal.client_id == "web"
    assert principal.claims["sub"] == "u-5"


def test_a_rotated_key_verifies_once_the_jwks_publishes_it_and_the_old_key_still_works(
    make_app: Callable[..., Flask], identity, auth_header
) -> None:
    verifier = TokenVerifier(identity.jwks_url, "test-identity", refresh_interval=0.0)
    client = make_app(verifier=verifier).test_client()
    old_key = identity.keys[0]
    assert client.get(ITEM, headers=auth_header(identity.issue(key=old_key))).status_code == 200

    new_key = identity.new_key("key-2")
    identity.publish(old_key, new_key)

    assert client.get(ITEM, headers=auth_header(identity.issue(key=new_key))).status_code == 200
    assert client.get(ITEM, headers=auth_header(identity.issue(key=old_key))).status_code == 200
    assert identity.fetches == 2


def test_a_flood_of_tokens_with_unknown_kids_does_not_hammer_identity(identity) -> None:
    verifier = TokenVerifier(identity.jwks_url, "test-identity")
    verifier.verify(identity.issue())
    stranger = identity.new_key("stranger")
    for number in range(25):
        with pytest.raises(TokenRejected):
            verifier.verify(identity.issue(key=stranger, kid=f"forged-{number}"))
    assert identity.fetches == 1


def test_when_identity_is_down_before_any_key_is_known_the_answer_is_503(
    make_app: Callable[..., Flask], identity, auth_header, port_factory
) -> None:
    verifier = TokenVerifier(f"http://127.0.0.1:{port_factory()}/oauth/jwks", "test-identity")
    client = make_app(verifier=verifier).test_client()
    answer = client.get(ITEM, headers=auth_header(identity.issue()))
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "auth_unavailable"


def test_a_key_identity_withdrew_stops_working_once_the_cached_set_is_old(identity) -> None:
    verifier = TokenVerifier(
        identity.jwks_url, "test-identity", refresh_interval=0.0, max_key_age=0.0
    )
    withdrawn = identity.keys[0]
    verifier.verify(identity.issue(key=withdrawn))
    identity.publish(identity.new_key("key-2"))
    with pytest.raises(TokenRejected):
        verifier.verify(identity.issue(key=withdrawn))


def test_a_verifier_with_an_audience_refuses_tokens_meant_for_another(identity) -> None:
    verifier = TokenVerifier(identity.jwks_url, "test-identity", audience="journal")
    assert verifier.verify(identity.issue(aud="journal")).user_id == "user-1"
    with pytest.raises(TokenRejected):
        verifier.verify(identity.issue(aud="diary"))
    with pytest.raises(TokenRejected):
        verifier.verify(identity.issue())


def test_a_token_with_roles_of_a_strange_type_is_refused_not_a_crash(
    app: Flask, identity, auth_header
) -> None:
    answer = app.test_client().get(ITEM, headers=auth_header(identity.issue(roles=7)))
    assert answer.status_code == 401


def service_token(identity, **claims: object) -> str:
    defaults: dict[str, object] = {
        "sub": "journal-sync",
        "client_id": "journal-sync",
        "roles": ["service"],
        "sid": None,
        "scope": "people.read",
    }
    return identity.issue(**{**defaults, **claims})


def test_a_service_token_opens_a_view_for_services_but_not_a_view_for_users(
    app: Flask, identity, auth_header
) -> None:
    token = service_token(identity)
    client = app.test_client()
    served = client.get(SYNC, headers=auth_header(token))
    assert served.status_code == 200
    assert served.get_json() == {"client": "journal-sync", "school_id": "school-1"}
    refused = client.get(ITEM, headers=auth_header(token))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"


def test_a_platform_service_without_a_school_is_let_into_a_view_for_services(
    app: Flask, identity, auth_header
) -> None:
    answer = app.test_client().get(
        SYNC, headers=auth_header(service_token(identity, school_id=None))
    )
    assert answer.status_code == 200
    assert answer.get_json()["school_id"] == ""


def test_a_user_token_is_forbidden_in_a_view_for_services(
    app: Flask, identity, auth_header
) -> None:
    answer = app.test_client().get(SYNC, headers=auth_header(identity.issue(roles=[DIRECTOR])))
    assert answer.status_code == 403


def test_the_principal_of_a_service_names_its_scopes(identity) -> None:
    verifier = TokenVerifier(identity.jwks_url, "test-identity")
    principal = verifier.verify(service_token(identity, scope="people.read marks.read"))
    assert principal.is_service
    assert principal.scopes == frozenset({"people.read", "marks.read"})
    assert not verifier.verify(identity.issue()).is_service


def test_a_remembered_token_whose_key_was_withdrawn_is_refused_after_the_next_fetch(
    identity,
) -> None:
    verifier = TokenVerifier(identity.jwks_url, "test-identity", refresh_interval=0.0)
    withdrawn = identity.keys[0]
    remembered = identity.issue(key=withdrawn)
    verifier.verify(remembered)
    new_key = identity.new_key("key-2")
    identity.publish(new_key)
    verifier.verify(identity.issue(key=new_key))  # an unknown kid: the set is fetched again
    with pytest.raises(TokenRejected):
        verifier.verify(remembered)


def test_a_remembered_token_still_expires(identity) -> None:
    verifier = TokenVerifier(identity.jwks_url, "test-identity", leeway=0)
    token = identity.issue(exp=int(time.time()) + 1)
    assert verifier.verify(token).user_id == "user-1"
    time.sleep(2.1)
    with pytest.raises(TokenRejected, match="expired"):
        verifier.verify(token)
