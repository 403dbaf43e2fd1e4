"""A block takes effect at once in every service (R-IDN-4, R-IDN-6, issue 3 §4).

identity blocks a user whose access token is still valid; another service (notify here)
learns it from `identity.account.blocked` / `identity.session.revoked` on the bus and its
deny-list refuses the token. The user would notice within one second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from .system import System

ADMIN_PASSWORD = "Пароль администратора 2025"
TEACHER_PASSWORD = "Длинный пароль учителя 7"


def token_of(system: System, login: str, password: str) -> str:
    form = {"grant_type": "password", "username": login, "password": password, "client_id": "web"}
    answer = requests.post(system.url("/api/identity/oauth/token"), data=form, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_a_blocked_teachers_still_valid_token_is_refused_by_another_service_within_a_second(
    start_system: Callable[..., System],
) -> None:
    system = start_system("identity", "notify")
    system.run_command(
        "identity", "identity-bootstrap-admin", BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD
    )
    admin = {"Authorization": f"Bearer {token_of(system, 'admin', ADMIN_PASSWORD)}"}
    body = {
        "kind": "staff",
        "roles": ["subject_teacher"],
        "last_name": "Орлов",
        "first_name": "Пётр",
        "login": "orlov",
        "password": TEACHER_PASSWORD,
    }
    teacher = requests.post(
        system.url("/api/identity/v1/people"), json=body, headers=admin, timeout=10
    ).json()
    token = {"Authorization": f"Bearer {token_of(system, 'orlov', TEACHER_PASSWORD)}"}
    own_preferences = system.url(f"/api/notify/v1/preferences/{teacher['id']}")
    assert requests.get(own_preferences, headers=token, timeout=10).status_code == 200

    blocked = requests.post(
        system.url(f"/api/identity/v1/people/{teacher['id']}/block"),
        json={"reason": "suspected_unlawful_use"},
        headers=admin,
        timeout=10,
    )
    assert blocked.status_code == 200
    blocked_at = time.monotonic()
    while requests.get(own_preferences, headers=token, timeout=10).status_code == 200:
        time.sleep(0.02)
    refused_after = time.monotonic() - blocked_at
    assert (
        requests.get(own_preferences, headers=token, timeout=10).json()["error"]["code"]
        == "token_revoked"
    )
    assert refused_after < 1.0, f"the block took {refused_after:.2f} s to reach notify"
